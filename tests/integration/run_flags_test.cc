// The command lines people bring from Evalchemy / lm-eval work as written.
#include <gtest/gtest.h>

#include <regex>

#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

Json results_at(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) {
    ADD_FAILURE() << r.out << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

std::string examples() {
  return source_dir() + "/examples";
}

TEST(RunFlags, EvalchemyCuratorCommandLine) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  auto r = run_retort({"eval", "--model", "curator", "--tasks", "DEMO_ARITH", "--include_path",
                       examples(), "--model_name", "openai/demo-model", "--model_args",
                       "api_base=" + sim.base_url() + ",api_key=dummy-key-123",
                       "--apply_chat_template", "True", "--batch_size", "8", "--output_path",
                       out.file("logs/run.json"), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_at(r);
  EXPECT_EQ(res["results"]["demo_arith"]["exact_match,strict-match"].get<double>(), 0.6);
  EXPECT_EQ(res.dump().find("dummy-key-123"), std::string::npos);  // no secret in results
}

TEST(RunFlags, ConfigFileSuppliesFlagsAndTheCommandLineWins) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir dir;
  write_text(dir.file("cfg.yaml"),
             "model: hosted_vllm/demo-model\ntasks: [demo_capitals]\n"
             "include_path: " +
                 examples() + "\nlimit: 1\nno_cache: true\n");
  auto r = run_retort({"run", "--config", dir.file("cfg.yaml"), "--base-url", sim.base_url(),
                       "--limit=3", "--output-path", dir.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_at(r);
  EXPECT_EQ(res["n-samples"]["demo_capitals"]["effective"], Json(3));
  // France, Japan right; Italy right by acc: 3 of 3.
  EXPECT_EQ(res["results"]["demo_capitals"]["acc,none"].get<double>(), 1.0);
}

TEST(RunFlags, FractionalLimitIsCeilOfTheShare) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", examples() + "/arith_gen.yaml", "--limit", "0.5", "--output_path",
                       out.path(), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(results_at(r)["n-samples"]["demo_arith"]["effective"], Json(3));  // ceil(5 * 0.5)
}

TEST(RunFlags, PredictOnlyReportsBypass) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", examples() + "/arith_gen.yaml", "--predict_only", "--output_path",
                       out.path(), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_at(r);
  EXPECT_TRUE(res["results"]["demo_arith"].contains("bypass,strict-match")) << res.dump(2);
  EXPECT_NE(r.out.find("samples: "), std::string::npos);
}

TEST(RunFlags, FailedRequestsGiveExitStatus3) {
  SimServer sim({"--model", "demo-model", "--mode", "script", "--script",
                 examples() + "/sim_script.jsonl", "--fail-500", "1.0"});
  auto r =
      run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                  "--tasks", examples() + "/arith_gen.yaml", "--no-cache", "--max_retries", "0"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("5 request(s) failed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace retort::testing
