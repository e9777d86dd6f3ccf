// Terminal tables: lm-eval's score table (utils.py:make_table rendered the way pytablewriter's
// MarkdownTableWriter lays it out) and retort's final statistics table.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "report/report.h"
#include "report/text.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

using report_text::center;
using report_text::display_width;
using report_text::fixed;
using report_text::pad_left;
using report_text::pad_right;
using report_text::repeat;

namespace {

// A Markdown table laid out like pytablewriter: header cells centred, every column at least
// 3 wide, numeric columns right-aligned ("---:"), the others left-aligned.
class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string str() const {
    size_t n = headers_.size();
    std::vector<size_t> width(n, 3);
    std::vector<bool> numeric(n, false);
    for (size_t c = 0; c < n; ++c) {
      width[c] = std::max(width[c], display_width(headers_[c]));
      bool any = false, all = true;
      for (const auto& r : rows_) {
        width[c] = std::max(width[c], display_width(r[c]));
        std::string cell = trimmed(r[c]);
        if (cell.empty()) continue;
        any = true;
        if (!is_number(cell)) all = false;
      }
      numeric[c] = any && all;
    }
    std::string out = "|";
    for (size_t c = 0; c < n; ++c) out += center(headers_[c], width[c]) + "|";
    out += "\n|";
    for (size_t c = 0; c < n; ++c) {
      out += numeric[c] ? repeat("-", width[c] - 1) + ":" : repeat("-", width[c]);
      out += "|";
    }
    out += "\n";
    for (const auto& r : rows_) {
      out += "|";
      for (size_t c = 0; c < n; ++c) {
        out += (numeric[c] ? pad_left(r[c], width[c]) : pad_right(r[c], width[c])) + "|";
      }
      out += "\n";
    }
    return out;
  }

 private:
  static std::string trimmed(const std::string& s) {
    size_t b = s.find_first_not_of(' ');
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(' ');
    return s.substr(b, e - b + 1);
  }
  static bool is_number(const std::string& s) {
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    bool digits = false, dot = false;
    for (; i < s.size(); ++i) {
      if (s[i] >= '0' && s[i] <= '9') {
        digits = true;
      } else if (s[i] == '.' && !dot) {
        dot = true;
      } else {
        return false;
      }
    }
    return digits;
  }

  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// str() of a version or n-shot value as the table shows it: integral floats as ints.
std::string cell_text(const Json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
      return fmt::format("{}", static_cast<int64_t>(d));
    }
  }
  return py_str(v);
}

// utils.py:_build_hierarchy_info: depth of each name, and the display order (roots sorted,
// children sorted, depth first; then the names outside any group, sorted).
void build_hierarchy(const Json& group_subtasks, const std::set<std::string>& available,
                     std::map<std::string, int>& depth, std::vector<std::string>& ordered) {
  std::map<std::string, std::vector<std::string>> children;
  std::set<std::string> all_children;
  if (group_subtasks.is_object()) {
    for (const auto& [g, list] : group_subtasks.items()) {
      auto& v = children[g];
      if (!list.is_array()) continue;
      for (const auto& c : list) {
        if (!c.is_string()) continue;
        v.push_back(c.get<std::string>());
        all_children.insert(c.get<std::string>());
      }
      std::sort(v.begin(), v.end());
    }
  }
  std::set<std::string> on_path;
  std::function<void(const std::string&, int)> visit = [&](const std::string& name, int d) {
    if (on_path.count(name)) return;  // a cycle; lm-eval would recurse forever
    on_path.insert(name);
    depth[name] = d;
    if (available.count(name)) ordered.push_back(name);
    auto it = children.find(name);
    if (it != children.end()) {
      for (const auto& c : it->second) visit(c, d + 1);
    }
    on_path.erase(name);
  };
  for (const auto& [g, list] : children) {
    if (!all_children.count(g)) visit(g, 0);
  }
  for (const auto& k : available) {
    if (!depth.count(k)) ordered.push_back(k);
  }
}

// Keys written beside lm-eval's under other harnesses' names (Evalchemy's math and code
// results: "pass@1" and "python_pass@1" carry no ",filter" as lm-eval's keys do); the
// tables show lm-eval's.
bool is_other_harness_key(const std::string& key) {
  static const std::set<std::string> kKeys = {
      "num_total",  "solved_avg", "run_stats", "accuracy_avg", "accuracy_std_err",
      "num_repeat", "num_solved", "accuracy",  "num_examples", "completion_rate"};
  if (kKeys.count(key) > 0) return true;
  if (key.find(',') != std::string::npos) return false;
  return key.rfind("pass@", 0) == 0 || key.rfind("python_pass@", 0) == 0;
}

const Json& member(const Json& obj, const std::string& key) {
  static const Json kNull;
  if (obj.is_object()) {
    auto it = obj.find(key);
    if (it != obj.end()) return *it;
  }
  return kNull;
}

}  // namespace

namespace report_text {

std::vector<ScoreRow> score_rows(const Json& results, const std::string& column) {
  std::vector<ScoreRow> rows;
  const Json& entries = member(results, column);
  if (!entries.is_object()) return rows;
  std::set<std::string> available;
  for (const auto& [k, v] : entries.items()) available.insert(k);
  std::map<std::string, int> depth;
  std::vector<std::string> ordered;
  build_hierarchy(member(results, "group_subtasks"), available, depth, ordered);

  const Json& versions = member(results, "versions");
  const Json& n_shots = member(results, "n-shot");
  const Json& higher = member(results, "higher_is_better");
  const Json& partial = member(member(results, "retort"), "partial");
  const Json& truncated = member(member(results, "retort"), "truncated");
  const Json& no_answer = member(member(results, "retort"), "no_answer");
  const Json& skipped = member(member(results, "retort"), "skipped");
  for (const auto& k : ordered) {
    const Json& dic = entries[k];
    if (!dic.is_object()) continue;
    std::string version = versions.is_object() && versions.contains(k) ? cell_text(versions[k])
                                                                       : std::string("    N/A");
    std::string n =
        n_shots.is_object() && n_shots.contains(k) ? cell_text(n_shots[k]) : std::string(" ");
    const Json& hib = member(higher, k);

    std::string name = dic.contains("alias") ? py_str(dic["alias"]) : k;
    int d = depth.count(k) ? depth[k] : 0;
    if (d > 0) name = std::string(static_cast<size_t>(d), ' ') + "- " + name;
    // A score over fewer docs than were planned says so on its first row.
    const Json& part = member(partial, k);
    const bool withheld = member(part, "withheld").is_boolean() && part["withheld"].get<bool>();
    if (part.is_object()) {
      name += fmt::format(" ({}/{} scored)", py_str(member(part, "scored")),
                          py_str(member(part, "docs")));
    }

    // Replies cut at the token limit, without an answer, and docs skipped say so too.
    std::vector<std::string> notes;
    if (const Json& tr = member(truncated, k); tr.is_object())
      notes.push_back(fmt::format("{} of {} truncated", py_str(member(tr, "truncated")),
                                  py_str(member(tr, "replies"))));
    if (const Json& na = member(no_answer, k); na.is_object() && member(na, "no_answer") != 0)
      notes.push_back(fmt::format("{} no answer", py_str(member(na, "no_answer"))));
    if (const Json& sk = member(skipped, k); sk.is_array()) {
      int64_t n = 0;
      for (const auto& e : sk) n += member(e, "count").is_number() ? e["count"].get<int64_t>() : 0;
      notes.push_back(fmt::format("{} skipped", n));
    }
    if (!notes.empty()) name += " (" + join(notes, ", ") + ")";

    std::map<std::string, const Json*> items;  // sorted(dic.items())
    for (const auto& [key, value] : dic.items()) {
      if (key == "alias" || key == "name" || key == "sample_len" || key == "sample_count" ||
          is_other_harness_key(key)) {
        continue;
      }
      items[key] = &value;
    }
    for (const auto& [mf, value] : items) {
      auto comma = mf.find(',');
      std::string m = comma == std::string::npos ? mf : mf.substr(0, comma);
      std::string f = comma == std::string::npos ? "" : mf.substr(comma + 1);
      if (m.size() >= 7 && m.compare(m.size() - 7, 7, "_stderr") == 0) continue;
      ScoreRow row;
      row.key = k;
      row.name = name;
      row.version = version;
      row.filter = f;
      row.n_shot = n;
      row.metric = m;
      row.depth = d;
      const Json& h = member(hib, m);
      if (h.is_boolean()) row.arrow = h.get<bool>() ? "↑" : "↓";
      row.value = *value;
      std::string se_key = m + "_stderr," + f;
      if (dic.contains(se_key)) {
        row.has_stderr = true;
        row.stderr_value = dic[se_key];
      }
      rows.push_back(std::move(row));
      name.clear();
      version.clear();
    }
    if (withheld && items.empty()) {
      ScoreRow row;
      row.key = k;
      row.name = name;
      row.version = version;
      row.n_shot = n;
      row.depth = d;
      row.value = "no score (--require_complete)";
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace report_text

std::string format_score_table(const Json& results, const std::string& column) {
  if (!member(results, column).is_object()) return "";
  MarkdownTable table({column == "groups" ? "Groups" : "Tasks", "Version", "Filter", "n-shot",
                       "Metric", "", "Value", "", "Stderr"});
  for (const auto& r : report_text::score_rows(results, column)) {
    std::string v = r.value.is_number_float() ? fixed(r.value.get<double>(), 4) : py_str(r.value);
    if (!r.has_stderr) {
      table.add_row({r.name, r.version, r.filter, r.n_shot, r.metric, r.arrow, v, "", ""});
      continue;
    }
    std::string se;
    if (r.stderr_value.is_string() && r.stderr_value.get<std::string>() == "N/A") {
      se = "   N/A";
    } else if (r.stderr_value.is_number()) {
      se = fixed(r.stderr_value.get<double>(), 4);
    } else {
      se = py_str(r.stderr_value);
    }
    table.add_row({r.name, r.version, r.filter, r.n_shot, r.metric, r.arrow, v, "±", se});
  }
  std::string out = table.str();
  // Why docs were skipped, under the table (the rows say how many).
  if (column == "results") {
    const Json& skipped = member(member(results, "retort"), "skipped");
    if (skipped.is_object())
      for (const auto& [task, list] : skipped.items())
        if (list.is_array())
          for (const auto& e : list)
            out += fmt::format("{}: {} skipped: {}\n", task, py_str(member(e, "count")),
                               py_str(member(e, "reason")));
  }
  return out;
}

std::string format_score_table(const RunResult& run) {
  Json results = results_json(run, false);
  std::string out = format_score_table(results, "results");
  if (results.contains("groups")) out += "\n" + format_score_table(results, "groups");
  return out;
}

std::string format_run_line(const Json& results) {
  Json config = strip_secrets(member(results, "config"));
  auto field = [&](const char* k) {
    return config.is_object() && config.contains(k) ? py_str(config[k]) : std::string("None");
  };
  std::string line = field("model") + " (" + field("model_args") + "), gen_kwargs: (" +
                     field("gen_kwargs") + "), limit: " + field("limit") +
                     ", num_fewshot: " + field("num_fewshot") +
                     ", batch_size: " + field("batch_size");
  const Json& sizes = member(config, "batch_sizes");
  if (sizes.is_array() && !sizes.empty()) {
    std::vector<std::string> parts;
    for (const auto& s : sizes) parts.push_back(py_str(s));
    std::string joined;
    for (size_t i = 0; i < parts.size(); ++i) joined += (i ? "," : "") + parts[i];
    line += " (" + joined + ")";
  }
  return line;
}

std::string group_thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out += ',';
    out += *it;
    ++count;
  }
  if (n < 0) out += '-';
  std::reverse(out.begin(), out.end());
  return out;
}

std::string format_hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  auto total = static_cast<int64_t>(seconds);
  return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
}

namespace {

std::string seconds_text(double s) {
  return fixed(s, 2) + "s";
}

}  // namespace

std::string format_stats_table(const RunStats& s, const std::string& model) {
  std::vector<std::pair<std::string, std::string>> rows;  // empty value = section heading
  if (!model.empty()) {
    rows.push_back({"Model", ""});
    rows.push_back({"Name", model});
  }
  rows.push_back({"Requests", ""});
  rows.push_back({"Total", group_thousands(s.total)});
  rows.push_back({"Succeeded", group_thousands(s.succeeded)});
  rows.push_back({"Failed", group_thousands(s.failed)});
  rows.push_back({"Cached", group_thousands(s.cached)});
  if (s.total > s.done()) rows.push_back({"Not Answered", group_thousands(s.total - s.done())});
  rows.push_back({"Retries", group_thousands(s.retries)});
  if (s.throttled > 0) rows.push_back({"Rate-Limited Replies", group_thousands(s.throttled)});
  rows.push_back({"Timeouts", group_thousands(s.timeouts)});
  if (s.stalls > 0 || s.ttft_p50_s >= 0)
    rows.push_back({"Stalled Streams", group_thousands(s.stalls)});
  if (s.truncated > 0) rows.push_back({"Truncated Replies (length)", group_thousands(s.truncated)});
  rows.push_back({"HTTP Calls", group_thousands(s.http_calls)});
  rows.push_back({"Tokens", ""});
  rows.push_back({"Input Tokens", group_thousands(s.prompt_tokens)});
  rows.push_back({"Output Tokens", group_thousands(s.completion_tokens)});
  int64_t with_usage = s.succeeded + s.cached;
  rows.push_back(
      {"Average Input Tokens",
       with_usage > 0 ? fixed(static_cast<double>(s.prompt_tokens) / with_usage, 1) : "N/A"});
  rows.push_back(
      {"Average Output Tokens",
       with_usage > 0 ? fixed(static_cast<double>(s.completion_tokens) / with_usage, 1) : "N/A"});
  // Reasoning models: the server's reasoning token count when it sends one (OpenAI,
  // DeepSeek), else only the characters of reasoning are known.
  if (s.reasoning_token_replies > 0)
    rows.push_back(
        {"Reasoning Tokens", group_thousands(s.reasoning_tokens) + " in " +
                                 group_thousands(s.reasoning_token_replies) + " replies (average " +
                                 fixed(static_cast<double>(s.reasoning_tokens) /
                                           static_cast<double>(s.reasoning_token_replies),
                                       1) +
                                 ")"});
  else if (s.reasoning_replies > 0)
    rows.push_back({"Reasoning Tokens", "not reported by the server"});
  if (s.reasoning_replies > 0)
    rows.push_back({"Reasoning Characters", group_thousands(s.reasoning_chars) + " in " +
                                                group_thousands(s.reasoning_replies) +
                                                " replies (average " +
                                                fixed(static_cast<double>(s.reasoning_chars) /
                                                          static_cast<double>(s.reasoning_replies),
                                                      1) +
                                                ")"});
  rows.push_back({"Performance", ""});
  rows.push_back({"Total Time", seconds_text(s.elapsed_s)});
  int64_t sent = s.succeeded + s.failed;
  rows.push_back({"Average Time per Request", sent > 0 ? seconds_text(s.elapsed_s / sent) : "N/A"});
  rows.push_back({"Requests per Minute", fixed(s.requests_per_min(), 1)});
  rows.push_back({"Tokens per Second", fixed(s.tokens_per_s(), 1)});
  rows.push_back({"Output Tokens per Second",
                  fixed(s.elapsed_s > 0 ? s.completion_tokens / s.elapsed_s : 0.0, 1)});
  if (sent > 0) {
    rows.push_back({"Latency p50 / p90 / p99", seconds_text(s.latency_p50_s) + " / " +
                                                   seconds_text(s.latency_p90_s) + " / " +
                                                   seconds_text(s.latency_p99_s)});
  }
  if (s.ttft_p50_s >= 0) {
    // Reports written before p90/p99 were recorded carry only the median.
    rows.push_back({"TTFT p50 / p90 / p99", s.ttft_p99_s >= 0
                                                ? seconds_text(s.ttft_p50_s) + " / " +
                                                      seconds_text(s.ttft_p90_s) + " / " +
                                                      seconds_text(s.ttft_p99_s)
                                                : seconds_text(s.ttft_p50_s)});
  }
  if (s.tpot_p50_s >= 0) {
    auto ms = [](double v) { return fixed(v * 1000.0, 1) + "ms"; };
    rows.push_back({"TPOT p50 / p90 / p99",
                    ms(s.tpot_p50_s) + " / " + ms(s.tpot_p90_s) + " / " + ms(s.tpot_p99_s)});
  }
  auto limit = [](double v) {
    return v > 0 ? group_thousands(static_cast<int64_t>(std::llround(v))) : std::string("none");
  };
  rows.push_back({"Rate Limit", ""});
  rows.push_back({"Configured RPM / TPM", limit(s.rpm_limit) + " / " + limit(s.tpm_limit)});
  rows.push_back({"Observed RPM / TPM",
                  fixed(s.requests_per_min(), 1) + " / " +
                      group_thousands(static_cast<int64_t>(std::llround(s.tokens_per_min())))});
  rows.push_back({"Cost", ""});
  const bool priced = s.price_input_per_mtok >= 0 && s.price_output_per_mtok >= 0;
  if (priced)
    rows.push_back(
        {"Price per 1M Tokens", fmt::format("${:.2f} in / ${:.2f} out ({})", s.price_input_per_mtok,
                                            s.price_output_per_mtok, s.price_model)});
  else
    rows.push_back({"Price per 1M Tokens", s.local_server ? "local server" : "N/A"});
  const double cost = s.cost_usd();
  rows.push_back({"Total Cost", priced ? fmt::format("${:.4f}", cost)
                                : s.local_server
                                    ? std::string("$0.00 (local)")
                                    : std::string("N/A (no price; --price_table FILE)")});

  size_t w1 = display_width("Section/Metric"), w2 = display_width("Value");
  for (const auto& [k, v] : rows) {
    w1 = std::max(w1, display_width(k));
    w2 = std::max(w2, display_width(v));
  }
  auto line = [&](const char* l, const char* m, const char* r) {
    return std::string(l) + repeat("─", w1 + 2) + m + repeat("─", w2 + 2) + r + "\n";
  };
  auto row = [&](const std::string& a, const std::string& b) {
    return "│ " + pad_right(a, w1) + " │ " + pad_right(b, w2) + " │\n";
  };
  std::string title = "Run Statistics";
  size_t total_width = w1 + w2 + 7;
  std::string out = center(title, total_width);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += "\n";
  out += line("╭", "┬", "╮");
  out += row("Section/Metric", "Value");
  out += line("├", "┼", "┤");
  for (const auto& [k, v] : rows) out += row(k, v);
  out += line("╰", "┴", "╯");
  return out;
}

}  // namespace retort
