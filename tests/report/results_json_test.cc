// Results JSON and samples JSONL: byte-for-byte against files Python's json module wrote
// (tests/report/golden/make_golden.py), plus the rules behind them.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/report_fixture.h"
#include "support/test_support.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {
namespace {

std::string golden(const std::string& name) {
  return testing::read_text(testing::source_dir() + "/tests/report/golden/" + name);
}

std::string joined_lines(const TaskResult& task) {
  std::string out;
  for (const auto& l : sample_lines(task)) out += l + "\n";
  return out;
}

TEST(ResultsJson, MatchesPythonJsonDumpsByteForByte) {
  RunResult run = testing::make_run();
  EXPECT_EQ(results_json_text(run), golden("results.json"));
}

TEST(ResultsJson, SamplesMatchPythonByteForByte) {
  RunResult run = testing::make_run();
  EXPECT_EQ(joined_lines(run.tasks[0]), golden("samples_arith_mc.jsonl"));
  EXPECT_EQ(joined_lines(run.tasks[1]), golden("samples_arith_gen.jsonl"));
}

TEST(ResultsJson, TopLevelKeysInLmEvalOrder) {
  Json j = results_json(testing::make_run());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::vector<std::string> expected = {"results",
                                       "groups",
                                       "group_subtasks",
                                       "configs",
                                       "versions",
                                       "n-shot",
                                       "higher_is_better",
                                       "n-samples",
                                       "config",
                                       "git_hash",
                                       "date",
                                       "task_hashes",
                                       "model_source",
                                       "model_name",
                                       "model_name_sanitized",
                                       "system_instruction",
                                       "system_instruction_sha",
                                       "fewshot_as_multiturn",
                                       "chat_template",
                                       "chat_template_sha",
                                       "total_evaluation_time_seconds",
                                       "retort"};
  EXPECT_EQ(keys, expected);
}

TEST(ResultsJson, MissingStderrIsTheStringNA) {
  RunResult run = testing::make_run();
  run.tasks[0].metrics[0].stderr_value.reset();
  Json j = results_json(run);
  EXPECT_EQ(j["results"]["arith_mc"]["acc_stderr,none"], "N/A");
  EXPECT_EQ(j["results"]["arith_mc"]["acc_norm_stderr,none"], 0.5);
}

TEST(ResultsJson, FloatsUsePythonRepr) {
  RunResult run = testing::make_run();
  run.tasks[0].metrics[0].value = 0.1 + 0.2;
  run.tasks[0].metrics[0].stderr_value = 1e-05;
  run.total_seconds = 1.0 / 3.0;
  std::string text = results_json_text(run);
  EXPECT_NE(text.find("\"acc,none\": 0.30000000000000004,"), std::string::npos);
  EXPECT_NE(text.find("\"acc_stderr,none\": 1e-05,"), std::string::npos);
  EXPECT_NE(text.find("\"total_evaluation_time_seconds\": \"0.3333333333333333\""),
            std::string::npos);
}

TEST(ResultsJson, BypassIsAnInteger) {
  RunResult run = testing::make_run();
  run.tasks[1].metrics = {{"bypass", "none", 999, std::nullopt, true}};
  std::string text = results_json_text(run);
  EXPECT_NE(text.find("\"bypass,none\": 999,\n      \"bypass_stderr,none\": \"N/A\""),
            std::string::npos);
}

TEST(ResultsJson, GroupsOnlyWhenSomeGroupAggregates) {
  RunResult run = testing::make_run();
  run.groups[0].metrics.clear();
  Json j = results_json(run);
  EXPECT_FALSE(j.contains("groups"));
  EXPECT_EQ(j["results"]["arith"], (Json{{"alias", "Arithmetic"}, {"name", "arith"}}));
  EXPECT_EQ(j["group_subtasks"]["arith"], Json::array({"arith_mc", "arith_gen"}));
}

TEST(ResultsJson, NestedGroupsComeBottomUpAndPropagateNShot) {
  RunResult run = testing::make_run();
  run.tasks[1].num_fewshot = 0;
  GroupResult outer;
  outer.name = "all";
  outer.subtasks = {"arith"};
  outer.metrics = {{"acc", "none", 0.5, 0.5, true}};
  outer.version = 2;
  run.groups.insert(run.groups.begin(), outer);  // listed parent first
  Json j = results_json(run);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["results"].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"arith_mc", "arith_gen", "arith", "all"}));
  EXPECT_EQ(j["results"]["all"]["sample_len"], 4);
  EXPECT_EQ(j["versions"]["all"], "2");
  EXPECT_EQ(j["n-shot"]["arith"], 0);
}

TEST(ResultsJson, TaskHashesOnlyWithSamples) {
  RunResult run = testing::make_run();
  EXPECT_TRUE(results_json(run, false)["task_hashes"].empty());
  Json j = results_json(run, true);
  EXPECT_EQ(j["task_hashes"]["arith_mc"], task_hash(run.tasks[0]));
  run.tasks[0].samples.clear();
  EXPECT_FALSE(results_json(run, true)["task_hashes"].contains("arith_mc"));
}

TEST(ResultsJson, SystemInstructionAndChatTemplateShas) {
  RunResult run = testing::make_run();
  run.system_instruction = "Be brief.";
  run.chat_template = "";
  Json j = results_json(run);
  EXPECT_EQ(j["system_instruction"], "Be brief.");
  EXPECT_EQ(j["system_instruction_sha"], sha256_hex("Be brief."));
  EXPECT_EQ(j["chat_template"], "");
  EXPECT_TRUE(j["chat_template_sha"].is_null());
  run.chat_template = "{{ messages }}";
  EXPECT_EQ(results_json(run)["chat_template_sha"], sha256_hex("{{ messages }}"));
}

TEST(Secrets, StrippedFromConfigBlocks) {
  RunResult run = testing::make_run();
  run.config["model_args"] = Json{{"model", "m"},
                                  {"api_key", "sk-secret-123456"},
                                  {"max_tokens", 5},
                                  {"tokenizer", "t"},
                                  {"headers", Json{{"Authorization", "Bearer abcdef"}}}};
  run.tasks[0].config["dataset_kwargs"] = Json{{"token", "hf_abcdefgh"}, {"data_files", "x"}};
  std::string text = results_json_text(run);
  EXPECT_EQ(text.find("sk-secret"), std::string::npos);
  EXPECT_EQ(text.find("Bearer"), std::string::npos);
  EXPECT_EQ(text.find("hf_abcdefgh"), std::string::npos);
  Json j = results_json(run);
  EXPECT_EQ(j["config"]["model_args"]["max_tokens"], 5);
  EXPECT_EQ(j["config"]["model_args"]["tokenizer"], "t");
  EXPECT_EQ(j["configs"]["arith_mc"]["dataset_kwargs"], (Json{{"data_files", "x"}}));
}

TEST(Secrets, ModelArgsStringLosesSecretPairs) {
  Json cfg = Json{{"model_args", "pretrained=a,api_key=sk-1,token=t-2,base_url=http://h/v1"}};
  EXPECT_EQ(strip_secrets(cfg)["model_args"], "pretrained=a,base_url=http://h/v1");
  EXPECT_TRUE(is_secret_key("API-KEY"));
  EXPECT_TRUE(is_secret_key("openai_api_key"));
  EXPECT_TRUE(is_secret_key("Authorization"));
  EXPECT_FALSE(is_secret_key("max_tokens"));
  EXPECT_FALSE(is_secret_key("tokenizer_backend"));
  EXPECT_FALSE(is_secret_key("think_end_token"));
}

TEST(Secrets, RegisteredSecretsAreRedactedEverywhere) {
  log::add_secret("zz-registered-secret-42");
  RunResult run = testing::make_run();
  run.tasks[1].samples[0].requests[0].responses[0].text = "leak zz-registered-secret-42";
  for (const auto& l : sample_lines(run.tasks[1])) {
    EXPECT_EQ(l.find("zz-registered-secret-42"), std::string::npos);
  }
  EXPECT_EQ(render_html(run).find("zz-registered-secret-42"), std::string::npos);
}

TEST(Samples, RecordKeysInLmEvalOrderThenRetort) {
  RunResult run = testing::make_run();
  Json rec = sample_record(run.tasks[1].samples[0], 1);
  std::vector<std::string> keys;
  for (const auto& [k, v] : rec.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"doc_id", "doc", "target", "arguments", "resps",
                                      "filtered_resps", "filter", "metrics", "doc_hash",
                                      "prompt_hash", "target_hash", "exact_match", "retort"}));
  EXPECT_EQ(rec["filter"], "flexible-extract");
}

TEST(Samples, FilterMajorOrder) {
  RunResult run = testing::make_run();
  auto lines = sample_lines(run.tasks[1]);
  ASSERT_EQ(lines.size(), 4u);
  std::vector<std::pair<int, std::string>> order;
  for (const auto& l : lines) {
    Json j = Json::parse(l);
    order.push_back({j["doc_id"].get<int>(), j["filter"].get<std::string>()});
  }
  EXPECT_EQ(order, (std::vector<std::pair<int, std::string>>{{0, "strict-match"},
                                                             {1, "strict-match"},
                                                             {0, "flexible-extract"},
                                                             {1, "flexible-extract"}}));
}

TEST(Samples, HashesFollowLmEval) {
  Json doc = Json{{"q", "é"}, {"n", 1}};
  EXPECT_EQ(doc_hash(doc), sha256_hex("{\n  \"q\": \"é\",\n  \"n\": 1\n}"));
  EXPECT_EQ(target_hash(Json::array({"a", "b"})), sha256_hex("['a', 'b']"));
  Sample s;
  SampleRequest chat;
  chat.arguments = Json{{"arg_0", Json::array({"[{\"role\": \"user\"}]"})}, {"arg_1", "x"}};
  s.requests.push_back(chat);
  EXPECT_EQ(prompt_hash(s), sha256_hex("[{\"role\": \"user\"}]"));
}

TEST(Samples, GivenHashesAreKept) {
  RunResult run = testing::make_run();
  run.tasks[0].samples[0].doc_hash = "d";
  Json rec = sample_record(run.tasks[0].samples[0], 0);
  EXPECT_EQ(rec["doc_hash"], "d");
}

TEST(Samples, FailedRequestsShowInRetortKey) {
  RunResult run = testing::make_run();
  auto& s = run.tasks[1].samples[0];
  s.failed = true;
  Response bad;
  bad.ok = false;
  bad.error = "HTTP 500: boom";
  bad.http_status = 500;
  s.requests[0].responses[0] = bad;
  Json rec = sample_record(s, 0);
  EXPECT_EQ(rec["resps"], Json::array({Json::array({""})}));
  EXPECT_EQ(rec["retort"]["failed"], true);
  EXPECT_EQ(rec["retort"]["responses"][0][0]["error"], "HTTP 500: boom");
  EXPECT_EQ(rec["retort"]["responses"][0][0]["http_status"], 500);
}

TEST(Samples, RollingAndRepeats) {
  Sample s;
  SampleRequest r;
  r.kind = RequestKind::kLoglikelihoodRolling;
  r.arguments = Json::array({"some text"});
  Response a;
  a.ok = true;
  a.loglikelihood = -12.5;
  r.responses = {a, a};
  s.requests.push_back(r);
  FilteredSample f;
  f.filtered_resps = Json::array({-12.5});
  s.filtered.push_back(f);
  Json rec = sample_record(s, 0);
  EXPECT_EQ(rec["arguments"], (Json{{"gen_args_0", Json{{"arg_0", "some text"}}}}));
  EXPECT_EQ(rec["resps"], Json::array({Json::array({"-12.5", "-12.5"})}));
  EXPECT_EQ(rec["filtered_resps"], Json::array({"-12.5"}));
}

}  // namespace
}  // namespace retort
