// The results database through the real binary: `retort run` records itself, `runs`,
// `leaderboard`, `compare` and `gate` read it back, with SQLite and a real PostgreSQL.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "support/pg_server.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// A generative task of n docs whose answer is always 5, so a fixed reply decides every
// verdict: "The answer is 5." scores 1 on each doc, "The answer is 6." scores 0.
std::string write_task(const TempDir& dir, int n) {
  std::string rows;
  for (int i = 0; i < n; ++i)
    rows += "{\"question\": \"What is " + std::to_string(i) + " + " + std::to_string(5 - i) +
            "?\", \"answer\": \"5\"}\n";
  write_text(dir.file("fives.jsonl"), rows);
  write_text(dir.file("fives.yaml"),
             "task: fives\n"
             "dataset_path: json\n"
             "dataset_kwargs:\n"
             "  data_files:\n"
             "    test: " +
                 dir.file("fives.jsonl") +
                 "\n"
                 "test_split: test\n"
                 "output_type: generate_until\n"
                 "doc_to_text: \"Q: {{question}}\\nA:\"\n"
                 "doc_to_target: \"{{answer}}\"\n"
                 "generation_kwargs:\n"
                 "  until: [\"\\n\"]\n"
                 "  max_gen_toks: 128\n"
                 "filter_list:\n"
                 "  - name: strict-match\n"
                 "    filter:\n"
                 "      - function: regex\n"
                 "        regex_pattern: \"The answer is (\\\\-?[0-9]+)\"\n"
                 "      - function: take_first\n"
                 "metric_list:\n"
                 "  - metric: exact_match\n"
                 "    aggregation: mean\n"
                 "    higher_is_better: true\n");
  return dir.file("fives.yaml");
}

std::string run_id(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("run: (\\S+) \\(retort runs show"))) {
    ADD_FAILURE() << "no run id in:\n" << r.out << r.err;
    return "";
  }
  return m[1].str();
}

// Runs the task against a sim that always replies `reply`; returns the run id.
std::string eval(const std::string& task, const std::string& model, const std::string& reply,
                 const std::string& db, const std::vector<std::string>& extra = {}) {
  SimServer sim({"--model", model, "--mode", "fixed", "--reply", reply});
  std::vector<std::string> args{
      "run",     "--model", "hosted_vllm/" + model, "--base-url", sim.base_url(),
      "--tasks", task,      "--no-cache",           "--db",       db};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_retort(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return run_id(r);
}

void exercise(const std::string& db) {
  TempDir dir;
  std::string task = write_task(dir, 40);
  std::string good = eval(task, "model-good", " The answer is 5.", db);
  std::string bad = eval(task, "model-bad", " The answer is 6.", db);
  ASSERT_FALSE(good.empty());
  ASSERT_FALSE(bad.empty());

  auto list = run_retort({"runs", "list", "--db", db});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(good), std::string::npos) << list.out;
  EXPECT_LT(list.out.find(bad), list.out.find(good)) << "newest first:\n" << list.out;
  EXPECT_NE(list.out.find("complete"), std::string::npos);

  auto show = run_retort({"runs", "show", "latest", "--db", db});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("model-bad"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("| fives | exact_match | strict-match | 40 | 0.0000 |"),
            std::string::npos)
      << show.out;

  auto board = run_retort({"leaderboard", "--db", db, "--format", "csv"});
  ASSERT_EQ(board.exit_code, 0) << board.err;
  EXPECT_EQ(board.out, "model,mean,fives\nmodel-good,1,1\nmodel-bad,0,0\n");

  auto cmp = run_retort({"compare", good, bad, "--db", db});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("| fives | exact_match,strict-match | 40 | 100.0 | 0.0 | -100.0 |"),
            std::string::npos)
      << cmp.out;
  EXPECT_NE(cmp.out.find("n=40: B is 100.0 points lower than A"), std::string::npos) << cmp.out;

  // The candidate lost every doc: a significant drop far beyond 1 point.
  auto gate =
      run_retort({"gate", "--baseline", good, "--candidate", bad, "--max-drop", "1pt", "--db", db});
  EXPECT_EQ(gate.exit_code, 1) << gate.out << gate.err;
  EXPECT_NE(gate.out.find("FAIL"), std::string::npos) << gate.out;
  // The other way round it is an improvement.
  auto pass =
      run_retort({"gate", "--baseline", bad, "--candidate", good, "--max-drop", "1%", "--db", db});
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("PASS"), std::string::npos) << pass.out;

  // Another prompt (a system instruction) on the same docs: refused, with the reason.
  std::string other =
      eval(task, "model-good", " The answer is 5.", db, {"--system_instruction", "Be brief."});
  auto refused = run_retort({"compare", good, other, "--db", db});
  ASSERT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_NE(refused.out.find("refused: fives: prompts differ on 40 of 40 shared docs"),
            std::string::npos)
      << refused.out;
  auto gate_refused = run_retort({"gate", "--baseline", good, "--candidate", other, "--db", db});
  EXPECT_EQ(gate_refused.exit_code, 2) << gate_refused.out;

  auto rm = run_retort({"runs", "rm", other, "--db", db});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto after = run_retort({"runs", "list", "--db", db});
  EXPECT_EQ(after.out.find(other), std::string::npos) << after.out;
}

TEST(StoreCli, SqliteRecordsComparesAndGates) {
  TempDir dir;
  exercise(dir.file("runs.db"));
}

TEST(StoreCli, PostgresqlRecordsComparesAndGates) {
  PgServer& pg = PgServer::shared();
  if (!pg.ok()) GTEST_SKIP() << "PostgreSQL tests skipped: " << pg.why();
  std::string url = pg.fresh_database();
  ASSERT_FALSE(url.empty());
  exercise(url);
}

TEST(StoreCli, RunsRecordInTheDefaultDatabaseAndCompareReadsResultFiles) {
  TempDir dir, data;
  std::string task = write_task(dir, 6);
  const std::vector<std::string> env{"XDG_DATA_HOME=" + data.path()};
  SimServer sim({"--model", "m", "--mode", "fixed", "--reply", " The answer is 5."});
  auto r =
      run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks", task,
                  "--no-cache", "--output_path", dir.file("out/a.json"), "--log_samples"},
                 env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(read_text(data.file("retort/runs.db")).empty());
  auto list = run_retort({"runs", "list"}, env);
  EXPECT_NE(list.out.find(run_id(r)), std::string::npos) << list.out;
  // A results file (with its samples beside it) compares like a run id.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("results: (\\S+)"))) << r.out;
  auto cmp = run_retort({"compare", m[1].str(), "latest"}, env);
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("| fives | exact_match,strict-match | 6 | 100.0 | 100.0 | +0.0 |"),
            std::string::npos)
      << cmp.out;
}

TEST(StoreCli, AStoreFailureIsOneWarningNotALostRun) {
  TempDir dir;
  std::string task = write_task(dir, 3);
  SimServer sim({"--model", "m", "--mode", "fixed", "--reply", " The answer is 5."});
  auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks",
                       task, "--no-cache", "--output_path", dir.file("out"), "--db",
                       "/dev/null/cannot/runs.db"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("results: "), std::string::npos) << r.out;
  size_t first = r.err.find("the run was not recorded");
  ASSERT_NE(first, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("the run was not recorded", first + 1), std::string::npos) << r.err;
  // --no-db records nothing and says nothing.
  auto quiet = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(),
                           "--tasks", task, "--no-cache", "--no-db"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out.find("run: "), std::string::npos) << quiet.out;
}

}  // namespace
}  // namespace retort::testing

namespace retort::testing {
namespace {

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// Headless Chromium on a file URL: the DOM after the page's script ran, and stderr (where
// --enable-logging puts the page's console messages as ":CONSOLE(line)" lines).
CommandResult chromium(const std::string& bin, const TempDir& profile,
                       const std::vector<std::string>& extra, const std::string& url) {
  std::vector<std::string> argv{bin,
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--no-first-run",
                                "--disable-extensions",
                                "--user-data-dir=" + profile.path(),
                                "--enable-logging=stderr",
                                "--v=0",
                                "--virtual-time-budget=3000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  return run_command(argv, {"HOME=" + profile.path()}, 180);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(StoreCli, HtmlReportIsInertToModelOutputAndItsFiltersWorkInChromium) {
  const std::string bin = find_chromium();
  if (bin.empty()) GTEST_SKIP() << "chromium not installed (Debian package chromium): skipped";
  TempDir dir, profile;
  std::string task = write_task(dir, 10);
  // Even-numbered docs get a right answer wrapped in markup that would run script if it
  // were ever inserted as HTML; odd ones get a wrong answer.
  write_text(
      dir.file("script.jsonl"),
      R"({"pattern": "What is [0-9]*[02468] \\+", "reply": " <script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\"> The answer is 5."})"
      "\n");
  const std::string db = dir.file("runs.db");
  std::string mixed, good;
  {
    SimServer sim(
        {"--model", "mixed", "--script", dir.file("script.jsonl"), "--reply", " The answer is 6."});
    auto r = run_retort({"run", "--model", "hosted_vllm/mixed", "--base-url", sim.base_url(),
                         "--tasks", task, "--no-cache", "--db", db});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    mixed = run_id(r);
  }
  good = eval(task, "good", " The answer is 5.", db);
  const std::string html_path = dir.file("report.html");
  auto rep = run_retort({"report", mixed, good, "--db", db, "-o", html_path});
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  std::string html = read_text(html_path);
  EXPECT_EQ(html.find("<script>document"), std::string::npos);  // only as JSON escapes
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("://"), std::string::npos) << "the page must not reach the network";
  EXPECT_NE(html.find("Paired differences"), std::string::npos);
  EXPECT_NE(html.find("[0.2366, 0.7634]"), std::string::npos)  // Wilson 95% for 5/10
      << html.substr(0, 3000);
  // Latency and throughput over each run, drawn from the series the run recorded.
  EXPECT_NE(html.find("<svg class=series"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);

  const std::string url = "file://" + html_path;
  auto incorrect = chromium(bin, profile, {"--dump-dom"}, url + "#filter=incorrect");
  ASSERT_EQ(incorrect.exit_code, 0) << incorrect.err.substr(0, 2000);
  EXPECT_NE(incorrect.out.find("data-ready=\"1\""), std::string::npos)
      << "the page's script did not finish:\n"
      << incorrect.out.substr(0, 2000);
  EXPECT_NE(incorrect.out.find("<title>retort report</title>"), std::string::npos);
  EXPECT_EQ(incorrect.out.find("PWNED</title>"), std::string::npos);
  EXPECT_NE(incorrect.out.find("5 of 10 samples"), std::string::npos);
  EXPECT_EQ(count_of(incorrect.out, "<tr class=\"incorrect\">"), 5u);
  EXPECT_EQ(count_of(incorrect.out, "<tr class=\"correct\">"), 0u);

  auto correct = chromium(bin, profile, {"--dump-dom"}, url + "#filter=correct&q=onerror");
  ASSERT_EQ(correct.exit_code, 0) << correct.err.substr(0, 2000);
  EXPECT_EQ(count_of(correct.out, "<tr class=\"correct\">"), 5u) << correct.out.substr(0, 3000);
  EXPECT_EQ(correct.out.find("<img"), std::string::npos);  // the markup is text
  EXPECT_NE(correct.out.find("&lt;img src=x onerror="), std::string::npos);
  EXPECT_EQ(correct.out.find("PWNED</title>"), std::string::npos);

  auto failed = chromium(bin, profile, {"--dump-dom"}, url + "#filter=failed");
  EXPECT_NE(failed.out.find("0 of 10 samples"), std::string::npos);
  EXPECT_EQ(count_of(failed.out, "<svg class=\"series\""), 3u) << failed.out.substr(0, 3000);
  // Output tokens/s for both runs (these fast runs have nothing in flight at their sampled
  // moments and stream nothing, so those panels stay empty).
  EXPECT_GE(count_of(failed.out, "<polyline"), 2u);

  // A screenshot for people to look at, kept as a test artifact.
  const char* art = std::getenv("RETORT_ARTIFACT_DIR");
  std::string art_dir = art && *art ? art : "/tmp/retort-artifacts";
  std::filesystem::create_directories(art_dir);
  const std::string shot = art_dir + "/report_screenshot.png";
  auto pic = chromium(bin, profile, {"--screenshot=" + shot, "--window-size=1400,2400"}, url);
  EXPECT_EQ(pic.exit_code, 0) << pic.err.substr(0, 2000);
  EXPECT_EQ(read_text(shot).substr(1, 3), "PNG") << shot;
  std::printf("report screenshot: %s\n", shot.c_str());

  for (const auto* r : {&incorrect, &correct, &failed, &pic})
    EXPECT_EQ(r->err.find(":CONSOLE("), std::string::npos) << "console message from the page:\n"
                                                           << r->err.substr(0, 3000);
}

// The report's latency panels drawn from a run against a simulator that takes its time (a
// time to first token and per output token) with streamed replies: every panel (output
// tokens/s, requests in flight, TTFT p50) has a line, where the instant runs above leave the
// last two empty.
TEST(StoreCli, LatencyPanelsHaveLinesWhenTheServerTakesTime) {
  const std::string bin = find_chromium();
  if (bin.empty()) GTEST_SKIP() << "chromium not installed (Debian package chromium): skipped";
  TempDir dir, profile;
  std::string task = write_task(dir, 12);
  const std::string db = dir.file("runs.db");
  std::string id;
  {
    SimServer sim({"--model", "slow", "--mode", "fixed", "--reply", " The answer is 5.",
                   "--ttft-ms", "150", "--tpot-ms", "5"});
    auto r =
        run_retort({"run", "--model", "hosted_vllm/slow", "--base-url", sim.base_url(), "--tasks",
                    task, "--no-cache", "--db", db, "--stream", "--concurrency", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    id = run_id(r);
  }
  const std::string html_path = dir.file("slow.html");
  auto rep = run_retort({"report", id, "--db", db, "-o", html_path});
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  auto page = chromium(bin, profile, {"--dump-dom"}, "file://" + html_path);
  ASSERT_EQ(page.exit_code, 0) << page.err.substr(0, 2000);
  const std::string svg = "<svg class=\"series\"";
  std::vector<std::string> panels;
  for (size_t p = page.out.find(svg); p != std::string::npos;) {
    size_t next = page.out.find(svg, p + 1);
    panels.push_back(page.out.substr(p, next == std::string::npos ? next : next - p));
    p = next;
  }
  ASSERT_EQ(panels.size(), 3u) << page.out.substr(0, 3000);
  EXPECT_NE(panels[0].find("output tokens/s"), std::string::npos);
  EXPECT_NE(panels[1].find("requests in flight"), std::string::npos);
  EXPECT_NE(panels[2].find("TTFT p50"), std::string::npos);
  for (const auto& panel : panels)
    EXPECT_NE(panel.find("<polyline"), std::string::npos) << panel.substr(0, 400);
  EXPECT_EQ(page.err.find(":CONSOLE("), std::string::npos) << page.err.substr(0, 3000);
}

}  // namespace
}  // namespace retort::testing
