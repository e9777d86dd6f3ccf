// `retort run` against servers that throttle and stall: rate-limit replies are retried apart
// from errors, --rpm / model_args rate limits space the run, --stream records time to first
// token per request, and a stalled stream is cut by the stall timeout while a stalled plain
// call is cut by the total timeout, each counted in the statistics.
#include <gtest/gtest.h>

#include <regex>

#include "support/test_support.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::testing {
namespace {

std::string examples() {
  return source_dir() + "/examples";
}

std::vector<std::string> sim_args(std::vector<std::string> extra) {
  std::vector<std::string> a = {"--model", "demo-model", "--mode",
                                "script",  "--script",   examples() + "/sim_script.jsonl"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// `retort run` of the 5-doc generative demo task, plus extra flags.
CommandResult run_arith(const SimServer& sim, const TempDir& out, std::vector<std::string> extra) {
  std::vector<std::string> a = {
      "run",          "--model",   "hosted_vllm/demo-model",       "--base-url",
      sim.base_url(), "--tasks",   examples() + "/arith_gen.yaml", "--output_path",
      out.path(),     "--no-cache"};
  a.insert(a.end(), extra.begin(), extra.end());
  return run_retort(a);
}

Json results_at(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) {
    ADD_FAILURE() << r.out << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

Json stats_of(const CommandResult& r) {
  Json res = results_at(r);
  if (!res.contains("retort") || !res["retort"].contains("stats")) {
    ADD_FAILURE() << res.dump(2);
    return Json::object();
  }
  return res["retort"]["stats"];
}

TEST(RunLimits, RateLimitRepliesAreRetriedEvenWithNoRetriesForErrors) {
  SimServer sim(sim_args({"--fail-429", "0.5", "--retry-after", "0", "--seed", "11"}));
  TempDir out;
  auto r = run_arith(sim, out, {"--max_retries", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json s = stats_of(r);
  EXPECT_EQ(s["failed"], 0) << s.dump();
  EXPECT_GT(s.value("throttled", 0), 0) << s.dump();
  EXPECT_EQ(results_at(r)["results"]["demo_arith"]["exact_match,strict-match"].get<double>(), 0.6);
  EXPECT_NE(r.out.find("Rate-Limited Replies"), std::string::npos) << r.out;
}

TEST(RunLimits, RpmFlagAndModelArgsSpaceTheRequests) {
  SimServer sim(sim_args({}));
  // 2 requests a second with a bucket of 2: the 5th request goes no earlier than 1 s after
  // the first (without a limiter the whole run takes milliseconds).
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--rpm", "120"}, {"--model_args", "max_requests_per_minute=120"}}) {
    TempDir out;
    auto r = run_arith(sim, out, extra);
    ASSERT_EQ(r.exit_code, 0) << extra[0] << "\n" << r.err;
    EXPECT_GE(stats_of(r)["elapsed_s"].get<double>(), 0.97) << extra[0];
  }
  TempDir out;
  auto bad = run_arith(sim, out, {"--rpm", "fast"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--rpm"), std::string::npos) << bad.err;
}

TEST(RunLimits, StreamRecordsTimeToFirstTokenPerRequest) {
  SimServer sim(sim_args({"--ttft-ms", "30", "--tpot-ms", "1"}));
  TempDir out;
  auto r = run_arith(sim, out, {"--stream", "--log_samples"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json s = stats_of(r);
  EXPECT_GE(s["ttft_p50_s"].get<double>(), 0.03) << s.dump();
  EXPECT_GE(s["ttft_p99_s"].get<double>(), s["ttft_p50_s"].get<double>()) << s.dump();
  EXPECT_NE(r.out.find("TTFT p50 / p90 / p99"), std::string::npos) << r.out;
  EXPECT_EQ(results_at(r)["results"]["demo_arith"]["exact_match,strict-match"].get<double>(), 0.6);
  // Each sample's response carries its own time to first token.
  std::smatch m;
  std::string listing = r.out;
  ASSERT_TRUE(std::regex_search(listing, m, std::regex("samples: (\\S+)"))) << r.out;
  int with_ttft = 0;
  for (const auto& line : split(read_text(m[1].str()), '\n')) {
    if (trim(line).empty()) continue;
    Json j = Json::parse(line);
    for (const auto& resp : j["retort"]["responses"])
      for (const auto& x : resp)
        if (x.contains("ttft_s") && x["ttft_s"].get<double>() >= 0.03) ++with_ttft;
  }
  EXPECT_GE(with_ttft, 5);
}

TEST(RunLimits, StalledStreamsAreCutByTheStallTimeout) {
  SimServer sim(sim_args({"--fail-stall", "0.5", "--seed", "6"}));
  TempDir out;
  // Each attempt stalls with probability 1/2: with 10 retries every request gets through.
  auto r = run_arith(
      sim, out, {"--stream", "--stall_timeout", "1", "--timeout", "60", "--max_retries", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json s = stats_of(r);
  EXPECT_GT(s.value("stalls", 0), 0) << s.dump();
  EXPECT_EQ(s.value("timeouts", 0), 0) << s.dump();
  EXPECT_EQ(s["failed"], 0) << s.dump();
  EXPECT_NE(r.out.find("Stalled Streams"), std::string::npos) << r.out;
}

TEST(RunLimits, StalledPlainCallsAreCutByTheTotalTimeout) {
  SimServer sim(sim_args({"--fail-stall", "0.5", "--seed", "6"}));
  TempDir out;
  auto r = run_arith(sim, out, {"--timeout", "1", "--stall_timeout", "1", "--max_retries", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json s = stats_of(r);
  EXPECT_GT(s.value("timeouts", 0), 0) << s.dump();
  EXPECT_EQ(s.value("stalls", 0), 0) << s.dump();  // no stall timeout without a stream
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("Timeouts +│ (\\d+)"))) << r.out;
  EXPECT_EQ(std::stoi(m[1].str()), s.value("timeouts", -1));
}

}  // namespace
}  // namespace retort::testing
