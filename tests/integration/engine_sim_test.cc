// The request path against `retort sim`: fault injection (every request ends answered or
// failed with a reason, counts reconcile, nothing answered is sent again) and a SIGKILL
// crash test (a rerun re-asks nothing that was committed, and ends with the same answers as
// an uninterrupted run). Driven through `retort models --load-test N`.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <random>
#include <thread>

#include "cache/cache.h"
#include "engine/http.h"
#include "support/test_support.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::testing {
namespace {

std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> out;
  for (const auto& line : split(read_text(path), '\n')) {
    if (!trim(line).empty()) out.push_back(Json::parse(line));
  }
  return out;
}

std::vector<std::string> load_test_args(const SimServer& sim, int n, const std::string& cache,
                                        const std::string& out) {
  return {"models",
          "--base-url",
          sim.base_url(),
          "--model",
          "sim-model",
          "--load-test",
          std::to_string(n),
          "--concurrency",
          "64",
          "--cache",
          cache,
          "--out",
          out,
          "--backoff",
          "0.01"};
}

TEST(EngineSim, FaultsEndAnsweredOrFailedWithReasonAndNothingIsSentTwice) {
  SimServer sim({"--fail-429", "0.10", "--fail-500", "0.025", "--fail-503", "0.025", "--fail-reset",
                 "0.02", "--fail-malformed", "0.01", "--retry-after", "0", "--seed", "7"});
  TempDir dir;
  const int n = 3000;
  auto args = load_test_args(sim, n, dir.file("cache.sqlite"), dir.file("out.jsonl"));
  auto r = run_retort(args);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  auto lines = read_jsonl(dir.file("out.jsonl"));
  ASSERT_EQ(static_cast<int>(lines.size()), n);
  int ok = 0, failed = 0;
  for (int i = 0; i < n; ++i) {
    const Json& j = lines[static_cast<size_t>(i)];
    EXPECT_EQ(j["index"], i);
    if (j["ok"].get<bool>()) {
      ++ok;
      EXPECT_EQ(j["text"], "load test request " + std::to_string(i) + ": say something.");
    } else {
      ++failed;
      EXPECT_FALSE(j["error"].get<std::string>().empty()) << j.dump();
    }
  }
  EXPECT_EQ(ok + failed, n);
  Json s = sim_stats(sim);
  // Every answered request was answered by the simulator exactly once...
  EXPECT_EQ(s["successes"].get<int>(), ok) << s.dump();
  EXPECT_EQ(s["duplicate_successes"].get<int>(), 0) << s.dump();
  // ...and faults did happen.
  EXPECT_GT(s["faults"].value("429", 0), 0) << s.dump();
  EXPECT_GT(s["faults"].value("reset", 0), 0) << s.dump();
  EXPECT_GT(s["faults"].value("malformed", 0), 0) << s.dump();
  // The summary reconciles.
  EXPECT_NE(r.err.find("load test: " + std::to_string(n) + " requests: 0 cached, " +
                       std::to_string(ok) + " succeeded, " + std::to_string(failed) + " failed"),
            std::string::npos)
      << r.err;

  // A rerun asks the simulator only for what failed.
  auto r2 = run_retort(args);
  Json s2 = sim_stats(sim);
  EXPECT_EQ(s2["duplicate_successes"].get<int>(), 0) << s2.dump();
  EXPECT_NE(r2.err.find(std::to_string(ok) + " cached"), std::string::npos) << r2.err;
}

TEST(EngineSim, KilledRunResumesWithoutReaskingAndMatchesAnUninterruptedRun) {
  SimServer sim;
  TempDir dir;
  const int n = 10000;
  std::string cache = dir.file("cache.sqlite");
  auto args = load_test_args(sim, n, cache, dir.file("out.jsonl"));
  std::vector<std::string> argv{retort_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  {
    BackgroundProcess p(argv, dir.file("run1.log"));
    // Kill at a random moment once answers are flowing.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (sim_stats(sim)["successes"].get<int>() < 200 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    p.kill_now(SIGKILL);
  }
  int64_t committed = ResponseCache(cache).stats().entries;
  Json before = sim_stats(sim);
  int answered_before = before["successes"].get<int>();
  ASSERT_LT(committed, n) << "the run finished before the kill; nothing to resume";
  // Answered by the server but not yet committed when killed: at most what was in flight.
  EXPECT_LE(answered_before - committed, 64);

  auto r = run_retort(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json after = sim_stats(sim);
  // The rerun asked exactly for what was not committed: nothing answered before is re-asked.
  EXPECT_EQ(after["successes"].get<int>() - answered_before, n - committed) << after.dump();
  EXPECT_NE(r.err.find(std::to_string(committed) + " cached"), std::string::npos) << r.err;

  // Same answers as an uninterrupted run.
  auto ref = run_retort(load_test_args(sim, n, dir.file("ref.sqlite"), dir.file("ref.jsonl")));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  auto a = read_jsonl(dir.file("out.jsonl")), b = read_jsonl(dir.file("ref.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["ok"], b[i]["ok"]) << i;
    EXPECT_EQ(a[i]["text"], b[i]["text"]) << i;
  }
}

TEST(EngineSim, CtrlCStopsSendingAndTheSameCommandResumes) {
  SimServer sim({"--ttft-ms", "20"});
  TempDir dir;
  const int n = 3000;
  std::string cache = dir.file("cache.sqlite");
  auto args = load_test_args(sim, n, cache, dir.file("out.jsonl"));
  std::vector<std::string> argv{retort_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  BackgroundProcess p(argv, dir.file("run1.log"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sim_stats(sim)["successes"].get<int>() < 100 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(p.pid(), SIGINT);
  EXPECT_EQ(p.wait(), 130);
  std::string log = read_text(dir.file("run1.log"));
  EXPECT_NE(log.find("run the same command again to resume"), std::string::npos) << log;
  int64_t committed = ResponseCache(cache).stats().entries;
  int answered = sim_stats(sim)["successes"].get<int>();
  // In-flight requests were allowed to finish and were committed: nothing answered is lost.
  EXPECT_EQ(committed, answered);
  ASSERT_LT(committed, n);
  auto r = run_retort(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(std::to_string(committed) + " cached"), std::string::npos) << r.err;
  EXPECT_EQ(sim_stats(sim)["duplicate_successes"].get<int>(), 0);
}

TEST(EngineSim, StreamedChatMeasuresTimeToFirstToken) {
  SimServer sim({"--ttft-ms", "5", "--tpot-ms", "1"});
  TempDir dir;
  auto args = load_test_args(sim, 20, dir.file("c.sqlite"), dir.file("o.jsonl"));
  args.push_back("--stream");
  args.push_back("--chat");
  auto r = run_retort(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = read_jsonl(dir.file("o.jsonl"));
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_EQ(lines[3]["text"], "load test request 3: say something.");
  EXPECT_EQ(r.err.find("ttft p50 -1"), std::string::npos) << r.err;
  EXPECT_EQ(sim_stats(sim)["by_route"]["/v1/chat/completions"], 20);
}

TEST(EngineSim, ModelsListsAndExplains) {
  SimServer sim({"--model", "org/alpha", "--model", "beta_model"});
  auto r = run_retort({"models", "--base-url", sim.base_url()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "org/alpha\nbeta_model\n");
  r = run_retort({"models", "--base-url", sim.base_url(), "--model", "org/beta-model"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("it serves: org/alpha, beta_model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'beta_model'"), std::string::npos) << r.err;
  std::string root = sim.base_url().substr(0, sim.base_url().size() - 3);
  r = run_retort({"models", "--base-url", root});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("use --base-url " + sim.base_url()), std::string::npos) << r.err;
  r = run_retort(
      {"models", "--base-url", sim.base_url(), "--model", "org/alpha", "--check-logprobs"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("prompt logprobs:   yes"), std::string::npos) << r.out;
}

TEST(EngineSim, CacheCommandShowsAndClears) {
  SimServer sim;
  TempDir dir;
  std::string cache = dir.file("c.sqlite");
  ASSERT_EQ(run_retort(load_test_args(sim, 20, cache, dir.file("o.jsonl"))).exit_code, 0);
  auto r = run_retort({"cache", "stats", "--cache", cache});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("entries: 20"), std::string::npos) << r.out;
  r = run_retort({"cache", "clear", "--cache", cache});
  EXPECT_NE(r.out.find("removed 20 cached responses"), std::string::npos) << r.out;
  r = run_retort({"cache", "stats", "--cache", cache});
  EXPECT_NE(r.out.find("entries: 0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace retort::testing
