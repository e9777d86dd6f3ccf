// Live progress display: line formats for fixed inputs, throttling by run time, plain vs
// interactive output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "report/report.h"

namespace retort {
namespace {

RunStats sample_stats() {
  RunStats s;
  s.total = 1247;
  s.cached = 0;
  s.succeeded = 600;
  s.failed = 3;
  s.in_flight = 12;
  s.prompt_tokens = 90000;
  s.completion_tokens = 30000;
  s.elapsed_s = 120;
  return s;
}

// Captures what a ProgressDisplay writes.
class Capture {
 public:
  Capture() : f_(open_memstream(&buf_, &size_)) {}
  ~Capture() {
    if (f_) std::fclose(f_);
    std::free(buf_);
  }
  FILE* file() { return f_; }
  std::string text() {
    std::fflush(f_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  FILE* f_;
};

TEST(Progress, RequestsLine) {
  // 644 left at 603 answered per 120 s -> 128.1 s.
  EXPECT_EQ(ProgressDisplay::requests_line(sample_stats()),
            "Requests: Total: 1,247 • Cached: 0✓ • Success: 600✓ • Failed: 3✗ • In flight: 12 • "
            "Req/min: 301.5 • Tok/s: 1000.0 • ETA 0:02:08");
}

TEST(Progress, RequestsLineFitsNarrowTerminals) {
  RunStats s = sample_stats();
  EXPECT_EQ(ProgressDisplay::requests_line(s, 200), ProgressDisplay::requests_line(s));
  EXPECT_EQ(ProgressDisplay::requests_line(s, 111),
            "Requests: Total: 1,247 • Cached: 0✓ • Success: 600✓ • Failed: 3✗ • Req/min: 301.5 • "
            "Tok/s: 1000.0 • ETA 0:02:08");
  EXPECT_EQ(ProgressDisplay::requests_line(s, 110),
            "Requests: Total: 1,247 • Success: 600✓ • Failed: 3✗ • Req/min: 301.5 • "
            "Tok/s: 1000.0 • ETA 0:02:08");
  EXPECT_EQ(ProgressDisplay::requests_line(s, 70),
            "Requests: Total: 1,247 • Success: 600✓ • Failed: 3✗ • ETA 0:02:08");
  EXPECT_EQ(ProgressDisplay::requests_line(s, 20), "Requests: Total: 1,…");
}

TEST(Progress, EtaUnknownBeforeAnyAnswerAndZeroWhenDone) {
  RunStats s;
  s.total = 10;
  s.elapsed_s = 5;
  EXPECT_LT(ProgressDisplay::eta_seconds(s), 0);
  EXPECT_NE(ProgressDisplay::requests_line(s).find("ETA -:--:--"), std::string::npos);
  s.cached = 10;
  EXPECT_EQ(ProgressDisplay::eta_seconds(s), 0);
}

TEST(Progress, PlainLine) {
  EXPECT_EQ(ProgressDisplay::plain_line(sample_stats()),
            "[0:02:00] 48% 603/1,247 requests • cached 0 • ok 600 • failed 3 • in flight 12 • "
            "301.5 req/min • 1000.0 tok/s • ETA 0:02:08");
}

TEST(Progress, OverallAndTaskLines) {
  RunStats s;
  s.total = 10;
  s.succeeded = 5;
  s.elapsed_s = 10;
  std::string line = ProgressDisplay::overall_line(s, 80);
  // 53 columns of text leave a 27-column bar, half full.
  std::string bar;
  for (int i = 0; i < 13; ++i) bar += "━";
  for (int i = 0; i < 14; ++i) bar += "─";
  EXPECT_EQ(line.rfind(bar + "  50%", 0), 0u) << line;
  EXPECT_NE(line.find(" 50% • Time Elapsed 0:00:10 • Time Remaining 0:00:10"), std::string::npos);

  TaskProgress t{"gsm8k", 650, 1247, 3};
  std::string tl = ProgressDisplay::task_line(t, 8, 60);
  EXPECT_EQ(tl.rfind("gsm8k    ━", 0), 0u) << tl;
  EXPECT_NE(tl.find(" 52%  650/1,247  (3 failed)"), std::string::npos) << tl;
  TaskProgress done{"mmlu", 4, 4, 0};
  EXPECT_EQ(ProgressDisplay::task_line(done, 4, 40).find("─"), std::string::npos);
}

TEST(Progress, FrameFitsTheWidth) {
  ProgressOptions o;
  o.out = nullptr;
  o.interactive = true;
  o.width = 50;
  o.max_task_lines = 3;
  ProgressDisplay d(o);
  std::vector<TaskProgress> tasks = {
      {"a", 1, 1, 0}, {"b_with_a_long_name", 0, 5, 0}, {"c", 2, 5, 0}, {"d", 0, 1, 0}};
  auto lines = d.frame(sample_stats(), tasks);
  ASSERT_EQ(lines.size(), 2u + 2u + 1u);  // overall, requests, 2 bars, "… more"
  EXPECT_NE(lines[2].find("b_with_a_lo"), std::string::npos);  // unfinished tasks first
  EXPECT_EQ(lines[4].rfind("… 2 more tasks (1 complete): 1/2 requests", 0), 0u) << lines[4];
  for (const auto& l : lines) {
    size_t cols = 0;
    for (size_t i = 0; i < l.size(); ++i) cols += (static_cast<unsigned char>(l[i]) & 0xC0) != 0x80;
    EXPECT_LE(cols, 50u) << l;
  }
}

TEST(Progress, PlainModePrintsEveryIntervalOfRunTime) {
  Capture cap;
  ProgressOptions o;
  o.out = cap.file();
  o.interactive = false;
  o.plain_interval_s = 10;
  ProgressDisplay d(o);
  RunStats s = sample_stats();
  for (double t : {0.0, 4.0, 9.9, 10.0, 15.0, 21.0}) {
    s.elapsed_s = t;
    d.update(s, {});
  }
  d.finish(s, {});
  d.update(s, {});  // ignored after finish
  std::string out = cap.text();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;  // 0, 10, 21, finish
  EXPECT_EQ(out.find("\x1b"), std::string::npos);
  EXPECT_EQ(out.rfind("[0:00:00] ", 0), 0u);
}

TEST(Progress, InteractiveModeRedrawsInPlace) {
  Capture cap;
  ProgressOptions o;
  o.out = cap.file();
  o.interactive = true;
  o.width = 80;
  ProgressDisplay d(o);
  RunStats s = sample_stats();
  std::vector<TaskProgress> tasks = {{"t1", 3, 10, 0}, {"t2", 0, 10, 0}};
  d.update(s, tasks);
  s.elapsed_s += 1;
  d.update(s, tasks);
  d.finish(s, tasks);
  std::string out = cap.text();
  EXPECT_EQ(out.find("\x1b[4A"), out.find("\x1b"));  // first escape moves up the 4 lines drawn
  EXPECT_NE(out.find("\r\x1b[4A\x1b[J"), std::string::npos);
  EXPECT_TRUE(d.interactive());
}

TEST(Progress, DumbTerminalIsNotInteractive) {
  ProgressOptions o;
  o.out = stderr;
  setenv("TERM", "dumb", 1);
  ProgressDisplay d(o);
  EXPECT_FALSE(d.interactive());
}

}  // namespace
}  // namespace retort
