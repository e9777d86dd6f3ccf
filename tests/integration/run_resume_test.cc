// A `retort run` stopped part way (Ctrl-C, or SIGKILL) resumes with the same command: what
// the server answered before the stop comes from the cache and is never asked again, and
// the scores equal those of an uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <regex>
#include <thread>

#include "engine/http.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// A generate_until task over n synthetic docs; the sim (fixed mode) answers "42" to all, and
// docs with an even index expect 42, so the score is known: ceil(n/2)/n.
std::string write_task(const TempDir& dir, int n) {
  std::string data;
  for (int i = 0; i < n; ++i) {
    data +=
        Json{{"q", "question number " + std::to_string(i)}, {"a", i % 2 == 0 ? "42" : "7"}}.dump() +
        "\n";
  }
  write_text(dir.file("docs.jsonl"), data);
  write_text(dir.file("resume_task.yaml"),
             "task: resume_task\n"
             "dataset_path: json\n"
             "dataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
             "test_split: test\n"
             "output_type: generate_until\n"
             "doc_to_text: \"Q: {{q}}\\nA:\"\n"
             "doc_to_target: \"{{a}}\"\n"
             "generation_kwargs:\n  until: [\"\\n\"]\n  max_gen_toks: 8\n"
             "metric_list:\n  - metric: exact_match\n");
  return dir.file("resume_task.yaml");
}

double score_of(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("results: (\\S+)"))) return -1;
  Json res = Json::parse(read_text(m[1].str()));
  return res["results"]["resume_task"]["exact_match,none"].get<double>();
}

void wait_for_successes(const SimServer& sim, int at_least) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sim_stats(sim)["successes"].get<int>() < at_least &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class RunResume : public ::testing::TestWithParam<int> {};

TEST_P(RunResume, StoppedRunResumesWithoutReaskingAndScoresTheSame) {
  const int sig = GetParam();
  const int n = 60;
  SimServer sim(
      {"--model", "m", "--mode", "fixed", "--reply", "42", "--ttft-ms", "40", "--max-seqs", "4"});
  TempDir dir;
  std::string task = write_task(dir, n);
  std::vector<std::string> args{"run",
                                "--model",
                                "hosted_vllm/m",
                                "--base-url",
                                sim.base_url(),
                                "--tasks",
                                task,
                                "--concurrency",
                                "4",
                                "--use_cache",
                                dir.file("cache.sqlite"),
                                "--output_path",
                                dir.file("out")};
  std::vector<std::string> argv{retort_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  BackgroundProcess first(argv, dir.file("run1.log"));
  wait_for_successes(sim, 10);
  kill(first.pid(), sig);
  int code = first.wait();
  if (sig == SIGINT) {
    EXPECT_EQ(code, 130);
    std::string log = read_text(dir.file("run1.log"));
    EXPECT_NE(log.find("resume"), std::string::npos) << log;
    // What was scored before the stop is written, marked interrupted and partial.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex("results: (\\S+)"))) << log;
    Json partial = Json::parse(read_text(m[1].str()));
    EXPECT_TRUE(partial["retort"]["interrupted"].get<bool>());
    EXPECT_FALSE(partial["retort"]["complete"].get<bool>());
    EXPECT_LT(partial["n-samples"]["resume_task"]["effective"].get<int>(), n);
    EXPECT_TRUE(partial["retort"]["partial"].contains("resume_task"));
  }
  int answered_before = sim_stats(sim)["successes"].get<int>();
  ASSERT_LT(answered_before, n) << "the run finished before it could be stopped";

  auto second = run_retort(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  Json stats = sim_stats(sim);
  // Nothing answered is asked again (with SIGINT every answer was committed; with SIGKILL
  // at most the few answers in flight at the kill can be lost and re-asked).
  if (sig == SIGINT) {
    EXPECT_EQ(stats["duplicate_successes"].get<int>(), 0) << stats.dump();
  } else {
    EXPECT_LE(stats["duplicate_successes"].get<int>(), 4) << stats.dump();
  }
  EXPECT_EQ(score_of(second.out), 0.5) << second.out;

  // The uninterrupted run against a fresh cache scores the same.
  auto fresh = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(),
                           "--tasks", task, "--no-cache", "--output_path", dir.file("out2")});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(score_of(fresh.out), score_of(second.out));
}

// A cache file that takes no writes (here a trigger fails every insert the way a full disk
// does) costs the caching, not the run: the scores come out, one warning says why nothing
// was cached, and a rerun asks everything again.
TEST(RunCache, ACacheThatCannotBeWrittenWarnsOnceAndTheRunFinishes) {
  const int n = 20;
  SimServer sim({"--model", "m", "--mode", "fixed", "--reply", "42"});
  TempDir dir;
  std::string task = write_task(dir, n);
  std::string cache = dir.file("cache.sqlite");
  std::vector<std::string> args{"run",          "--model",       "hosted_vllm/m",
                                "--base-url",   sim.base_url(),  "--tasks",
                                task,           "--concurrency", "4",
                                "--use_cache",  cache,           "--output_path",
                                dir.file("out")};
  auto warm =
      run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks", task,
                  "--limit", "1", "--use_cache", cache, "--output_path", dir.file("out0")});
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(cache.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER disk_full BEFORE INSERT ON responses BEGIN "
                         "SELECT RAISE(ABORT, 'database or disk is full'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto r = run_retort(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(score_of(r.out), 0.5) << r.out;
  size_t warnings = 0;
  for (size_t at = 0; (at = r.err.find("cannot store answers", at)) != std::string::npos; ++at)
    ++warnings;
  EXPECT_EQ(warnings, 1u) << r.err;
  EXPECT_NE(r.err.find("database or disk is full"), std::string::npos) << r.err;
  int asked = sim_stats(sim)["successes"].get<int>();
  EXPECT_EQ(asked, 1 + (n - 1));  // the doc cached by the first run was not asked again

  auto again = run_retort(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(sim_stats(sim)["successes"].get<int>(), asked + (n - 1));
}

INSTANTIATE_TEST_SUITE_P(Signals, RunResume, ::testing::Values(SIGINT, SIGKILL),
                         [](const auto& info) {
                           return info.param == SIGINT ? "SIGINT" : "SIGKILL";
                         });

}  // namespace
}  // namespace retort::testing
