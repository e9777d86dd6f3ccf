// `retort run` against servers that throttle and stall: rate-limit replies are retried apart
// from errors, --rpm / model_args rate limits space the run, --stream records time to first
// token per request, and a stalled stream is cut by the stall timeout while a stalled plain
// call is cut by the total timeout, each counted in the statistics.
#include <gtest/gtest.h>

#include <fmt/format.h>

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

namespace retort::testing {
namespace {

// The value column of one statistics-table row ("" when the row is absent).
std::string stats_row(const std::string& out, const std::string& key) {
  size_t at = out.find("│ " + key + " ");
  if (at == std::string::npos) return "";
  size_t start = out.find("│ ", at + 2) + std::string("│ ").size();
  std::string v = out.substr(start, out.find(" │", start) - start);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

Json results_of(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) {
    ADD_FAILURE() << r.out << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

// Curator's rate-limit and cost rows, and TPOT when streamed, from an ordinary accuracy run:
// in the table, the results file and the results database.
TEST(RunStatistics, RateLimitCostAndTpotRowsOnALocalServer) {
  SimServer sim({"--model", "demo-model", "--mode", "script", "--script",
                 source_dir() + "/examples/sim_script.jsonl", "--tpot-ms", "5"});
  TempDir out;
  const std::string db = out.file("runs.db");
  auto r =
      run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                  "--tasks", source_dir() + "/examples/arith_gen.yaml", "--output_path", out.path(),
                  "--no-cache", "--stream", "--rpm", "6000", "--tpm", "1000000", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(stats_row(r.out, "Configured RPM / TPM"), "6,000 / 1,000,000") << r.out;
  EXPECT_NE(stats_row(r.out, "Observed RPM / TPM"), "") << r.out;
  EXPECT_EQ(stats_row(r.out, "Price per 1M Tokens"), "local server") << r.out;
  EXPECT_EQ(stats_row(r.out, "Total Cost"), "$0.00 (local)") << r.out;
  EXPECT_NE(stats_row(r.out, "TPOT p50 / p90 / p99"), "") << r.out;
  Json s = results_of(r)["retort"]["stats"];
  EXPECT_EQ(s["rpm_limit"], 6000.0) << s.dump();
  EXPECT_EQ(s["tpm_limit"], 1000000.0);
  EXPECT_EQ(s["cost_usd"], 0.0);
  EXPECT_EQ(s["local_server"], true);
  // The sim waits 5 ms between tokens: no reply can have come faster per token.
  EXPECT_GE(s["tpot_p50_s"].get<double>(), 0.004) << s.dump();
  EXPECT_GE(s["tpot_p99_s"].get<double>(), s["tpot_p50_s"].get<double>());
  const double tokens = s["prompt_tokens"].get<double>() + s["completion_tokens"].get<double>();
  EXPECT_NEAR(s["tokens_per_min"].get<double>(), 60.0 * tokens / s["elapsed_s"].get<double>(),
              1e-6 * tokens);
  auto show = run_retort({"runs", "show", "latest", "--db", db, "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json stored = Json::parse(show.out)["stats"];
  EXPECT_EQ(stored["rpm_limit"], 6000.0);
  EXPECT_EQ(stored["cost_usd"], 0.0);
  EXPECT_EQ(stored["tpot_p50_s"], s["tpot_p50_s"]);
  auto shown = run_retort({"runs", "show", "latest", "--db", db});
  EXPECT_EQ(stats_row(shown.out, "Total Cost"), "$0.00 (local)") << shown.out;
}

TEST(RunStatistics, AHostedModelIsPricedFromTheTableOrAPriceFile) {
  SimServer sim({"--model", "gpt-4o-mini", "--mode", "fixed", "--reply", " The answer is 5."});
  TempDir out;
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"run",
                                  "--model",
                                  "openai/gpt-4o-mini",
                                  "--base-url",
                                  sim.base_url(),
                                  "--api-key",
                                  "sk-test-0123456789",
                                  "--tasks",
                                  source_dir() + "/examples/arith_gen.yaml",
                                  "--output_path",
                                  out.path(),
                                  "--no-cache",
                                  "--no-db"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_retort(a);
  };
  // A priced model costs money even behind a proxy on this machine.
  auto listed = run({});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  Json s = results_of(listed)["retort"]["stats"];
  const double in = s["prompt_tokens"].get<double>(), outk = s["completion_tokens"].get<double>();
  ASSERT_GT(in, 0);
  EXPECT_NEAR(s["cost_usd"].get<double>(), (in * 0.15 + outk * 0.60) / 1e6, 1e-12) << s.dump();
  EXPECT_EQ(stats_row(listed.out, "Price per 1M Tokens"), "$0.15 in / $0.60 out (gpt-4o-mini)");
  EXPECT_EQ(stats_row(listed.out, "Total Cost"),
            fmt::format("${:.4f}", (in * 0.15 + outk * 0.60) / 1e6));

  write_text(out.file("prices.json"), R"({"gpt-4o": {"input": 1000, "output": 2000}})");
  auto mine = run({"--price_table", out.file("prices.json")});
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  Json m = results_of(mine)["retort"]["stats"];
  EXPECT_NEAR(
      m["cost_usd"].get<double>(),
      (m["prompt_tokens"].get<double>() * 1000 + m["completion_tokens"].get<double>() * 2000) / 1e6,
      1e-9);
  EXPECT_EQ(m["price"]["model"], "gpt-4o");

  write_text(out.file("broken.json"), "{\"gpt-4o\": 3}");
  auto bad = run({"--price_table", out.file("broken.json")});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.err.find("broken.json"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace retort::testing
