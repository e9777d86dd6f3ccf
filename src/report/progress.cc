// Live progress: an in-place redrawn frame on a terminal, plain periodic lines elsewhere.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "report/report.h"
#include "report/text.h"

namespace retort {

using report_text::display_width;
using report_text::fixed;
using report_text::pad_left;
using report_text::pad_right;
using report_text::repeat;
using report_text::truncate;

namespace {

constexpr const char* kSep = " • ";

bool terminal_is_dumb() {
  const char* term = std::getenv("TERM");
  return term == nullptr || *term == '\0' || std::strcmp(term, "dumb") == 0;
}

int terminal_width(FILE* out) {
  if (const char* cols = std::getenv("COLUMNS")) {
    int c = std::atoi(cols);
    if (c > 0) return c;
  }
  struct winsize ws {};
  if (out && ::ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

// "━━━━━━━━────────" with done/total filled.
std::string bar(int64_t done, int64_t total, size_t width) {
  if (width == 0) return "";
  double frac = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 0.0;
  auto filled = static_cast<size_t>(std::floor(frac * width));
  if (done < total && filled == width) filled = width - 1;
  return repeat("━", filled) + repeat("─", width - filled);
}

std::string percent(int64_t done, int64_t total) {
  int p = total > 0 ? static_cast<int>(std::floor(100.0 * std::min(done, total) / total)) : 0;
  return pad_left(std::to_string(p), 3) + "%";
}

std::string trim_left_spaces(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b);
}

std::string eta_text(const RunStats& s) {
  double eta = ProgressDisplay::eta_seconds(s);
  return eta < 0 ? std::string("-:--:--") : format_hms(eta);
}

}  // namespace

double ProgressDisplay::eta_seconds(const RunStats& s) {
  int64_t remaining = s.total - s.done();
  if (remaining <= 0) return 0;
  int64_t answered = s.succeeded + s.failed;
  if (answered <= 0 || s.elapsed_s <= 0) return -1;
  return remaining * s.elapsed_s / static_cast<double>(answered);
}

namespace {

struct Segment {
  std::string text;
  int drop_rank;  // 0 = never dropped; higher ranks go first
};

std::vector<Segment> request_segments(const RunStats& s) {
  return {{"Requests: Total: " + group_thousands(s.total), 0},
          {"Cached: " + group_thousands(s.cached) + "✓", 3},
          {"Success: " + group_thousands(s.succeeded) + "✓", 0},
          {"Failed: " + group_thousands(s.failed) + "✗", 0},
          {"In flight: " + group_thousands(s.in_flight), 4},
          {"Req/min: " + fixed(s.requests_per_min(), 1), 1},
          {"Tok/s: " + fixed(s.tokens_per_s(), 1), 2},
          {"ETA " + eta_text(s), 0}};
}

std::string join_segments(const std::vector<Segment>& segs, int max_rank) {
  std::string out;
  for (const auto& seg : segs) {
    if (seg.drop_rank > max_rank) continue;
    if (!out.empty()) out += kSep;
    out += seg.text;
  }
  return out;
}

}  // namespace

std::string ProgressDisplay::requests_line(const RunStats& s) {
  return join_segments(request_segments(s), 4);
}

std::string ProgressDisplay::requests_line(const RunStats& s, int width) {
  auto segs = request_segments(s);
  auto w = static_cast<size_t>(std::max(width, 1));
  for (int rank = 4; rank >= 0; --rank) {
    std::string line = join_segments(segs, rank);
    if (display_width(line) <= w || rank == 0) return truncate(line, w);
  }
  return "";
}

std::string ProgressDisplay::overall_line(const RunStats& s, int width) {
  std::string suffix = " " + percent(s.done(), s.total) + kSep + "Time Elapsed " +
                       format_hms(s.elapsed_s) + kSep + "Time Remaining " + eta_text(s);
  int room = width - static_cast<int>(display_width(suffix));
  size_t bar_width = static_cast<size_t>(std::clamp(room, 10, 48));
  return bar(s.done(), s.total, bar_width) + suffix;
}

std::string ProgressDisplay::task_line(const TaskProgress& t, size_t name_width, int width) {
  std::string suffix = " " + percent(t.done, t.total) + "  " + group_thousands(t.done) + "/" +
                       group_thousands(t.total);
  if (t.failed > 0) suffix += "  (" + group_thousands(t.failed) + " failed)";
  std::string name = pad_right(truncate(t.name, name_width), name_width);
  int room = width - static_cast<int>(name_width) - 1 - static_cast<int>(display_width(suffix));
  size_t bar_width = static_cast<size_t>(std::clamp(room, 10, 40));
  return name + " " + bar(t.done, t.total, bar_width) + suffix;
}

std::string ProgressDisplay::plain_line(const RunStats& s) {
  return fmt::format(
      "[{}] {} {}/{} requests • cached {} • ok {} • failed {} • in flight {} • {} req/min • {} "
      "tok/s • ETA {}",
      format_hms(s.elapsed_s), trim_left_spaces(percent(s.done(), s.total)),
      group_thousands(s.done()), group_thousands(s.total), group_thousands(s.cached),
      group_thousands(s.succeeded), group_thousands(s.failed), group_thousands(s.in_flight),
      fixed(s.requests_per_min(), 1), fixed(s.tokens_per_s(), 1), eta_text(s));
}

std::vector<std::string> ProgressDisplay::frame(const RunStats& stats,
                                                const std::vector<TaskProgress>& tasks) const {
  std::vector<std::string> lines;
  auto w = static_cast<size_t>(std::max(width_, 20));
  lines.push_back(truncate(overall_line(stats, width_), w));
  lines.push_back(requests_line(stats, static_cast<int>(w)));
  if (tasks.size() > 1 || (tasks.size() == 1 && options_.max_task_lines > 0)) {
    size_t name_width = 0;
    for (const auto& t : tasks) name_width = std::max(name_width, display_width(t.name));
    name_width = std::min<size_t>(name_width, std::max<size_t>(12, w / 3));
    std::vector<const TaskProgress*> shown;
    size_t limit = options_.max_task_lines;
    if (tasks.size() <= limit) {
      for (const auto& t : tasks) shown.push_back(&t);
    } else {
      // Unfinished tasks first (those are the ones worth watching), in their order.
      for (const auto& t : tasks) {
        if (shown.size() + 1 < limit && t.done < t.total) shown.push_back(&t);
      }
      for (const auto& t : tasks) {
        if (shown.size() + 1 < limit && t.done >= t.total) shown.push_back(&t);
      }
    }
    for (const auto* t : shown) lines.push_back(truncate(task_line(*t, name_width, width_), w));
    if (shown.size() < tasks.size()) {
      int64_t done = 0, total = 0, complete = 0;
      size_t hidden = tasks.size() - shown.size();
      for (const auto& t : tasks) {
        if (std::find(shown.begin(), shown.end(), &t) != shown.end()) continue;
        done += t.done;
        total += t.total;
        if (t.done >= t.total) ++complete;
      }
      lines.push_back(truncate(fmt::format("… {} more tasks ({} complete): {}/{} requests", hidden,
                                           complete, group_thousands(done), group_thousands(total)),
                               w));
    }
  }
  return lines;
}

ProgressDisplay::ProgressDisplay(ProgressOptions options) : options_(options) {
  if (options_.interactive) {
    interactive_ = *options_.interactive;
  } else {
    interactive_ = options_.out && ::isatty(fileno(options_.out)) && !terminal_is_dumb();
  }
  width_ =
      options_.width > 0 ? options_.width : (interactive_ ? terminal_width(options_.out) : 100);
}

ProgressDisplay::~ProgressDisplay() = default;

void ProgressDisplay::update(const RunStats& stats, const std::vector<TaskProgress>& tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_ || !options_.out) return;
  double interval = interactive_ ? options_.redraw_interval_s : options_.plain_interval_s;
  if (last_draw_s_ >= 0 && stats.elapsed_s - last_draw_s_ < interval) return;
  draw(stats, tasks);
}

void ProgressDisplay::finish(const RunStats& stats, const std::vector<TaskProgress>& tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_ || !options_.out) return;
  draw(stats, tasks);
  finished_ = true;
}

void ProgressDisplay::draw(const RunStats& stats, const std::vector<TaskProgress>& tasks) {
  last_draw_s_ = stats.elapsed_s;
  std::string out;
  if (interactive_) {
    if (options_.width <= 0) width_ = terminal_width(options_.out);
    // Back to the top of the previous frame, clear it, draw the new one.
    if (lines_drawn_ > 0) out += fmt::format("\r\x1b[{}A\x1b[J", lines_drawn_);
    auto lines = frame(stats, tasks);
    for (const auto& l : lines) out += l + "\n";
    lines_drawn_ = lines.size();
  } else {
    out = plain_line(stats) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), options_.out);
  std::fflush(options_.out);
}

}  // namespace retort
