// Golden runs: the real binary against `retort sim --mode script`, where the script decides
// every answer, so the scores are known exactly in advance.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "engine/http.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// The "results: PATH" line the run prints.
Json results_of(const CommandResult& r) {
  std::smatch m;
  std::regex re("results: (\\S+)");
  if (!std::regex_search(r.out, m, re)) {
    ADD_FAILURE() << "no results path in output:\n" << r.out << "\nstderr:\n" << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

std::string examples() {
  return source_dir() + "/examples";
}

TEST(RunGolden, ExamplesScoresAreExactlyWhatTheScriptImplies) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", examples(), "--output_path", out.path(), "--no-cache",
                       "--log_samples"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_of(r);
  const Json& t = res["results"];
  // generate_until + regex filter + exact_match: 3 of 5 replies say "The answer is <gold>".
  EXPECT_EQ(t["demo_arith"]["exact_match,strict-match"].get<double>(), 0.6);
  // multiple choice by loglikelihood: acc and acc_norm (length-normalised) differ on Italy.
  EXPECT_EQ(t["demo_capitals"]["acc,none"].get<double>(), 0.75);
  EXPECT_EQ(t["demo_capitals"]["acc_norm,none"].get<double>(), 0.5);
  EXPECT_EQ(t["demo_colors"]["acc,none"].get<double>(), 0.5);
  EXPECT_EQ(t["demo_colors"]["acc_norm,none"].get<double>(), 0.5);
  // The group: size-weighted mean of acc over its two tasks (4 and 2 docs).
  ASSERT_TRUE(res.contains("groups")) << res.dump(2);
  EXPECT_EQ(res["groups"]["demo_mc"]["acc,none"].get<double>(), (0.75 * 4 + 0.5 * 2) / 6);
  EXPECT_EQ(res["group_subtasks"]["demo_mc"], Json({"demo_capitals", "demo_colors"}));
  EXPECT_EQ(res["n-samples"]["demo_capitals"]["effective"], Json(4));
}

TEST(RunGolden, MultipleChoiceGoesAsTokensWhereTheServerTokenizesElseAsText) {
  // The sim answers /tokenize like vLLM: loglikelihood requests follow lm-eval's
  // tokenized_requests (the server tokenizes, prompts go as token ids) and score the same.
  for (bool tokenized : {true, false}) {
    SimServer sim({"--model", "demo-model", "--mode", "script", "--script",
                   examples() + "/sim_script.jsonl"});
    TempDir out;
    std::vector<std::string> args = {"run",
                                     "--model",
                                     "hosted_vllm/demo-model",
                                     "--base-url",
                                     sim.base_url(),
                                     "--tasks",
                                     "demo_capitals",
                                     "--include_path",
                                     examples(),
                                     "--output_path",
                                     out.path(),
                                     "--use_cache",
                                     out.path() + "/cache.sqlite"};
    if (!tokenized) args.insert(args.end(), {"--model_args", "tokenized_requests=False"});
    auto r = run_retort(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json res = results_of(r);
    EXPECT_EQ(res["results"]["demo_capitals"]["acc,none"].get<double>(), 0.75);
    EXPECT_EQ(res["results"]["demo_capitals"]["acc_norm,none"].get<double>(), 0.5);
    Json routes = sim_stats(sim)["by_route"];
    int tokenize_calls = routes.value("/tokenize", 0);
    if (tokenized) {
      EXPECT_GT(tokenize_calls, 4) << routes.dump();  // the probe, then the prompts
    } else {
      EXPECT_EQ(tokenize_calls, 1) << routes.dump();  // the probe only
    }
    // The same command again asks the server nothing but the probe's questions.
    Json before = sim_stats(sim)["by_route"];
    auto again = run_retort(args);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    Json after = sim_stats(sim)["by_route"];
    EXPECT_EQ(after.value("/v1/completions", 0) - before.value("/v1/completions", 0), 1)
        << after.dump();  // the prompt-logprob probe
    EXPECT_EQ(after.value("/tokenize", 0) - before.value("/tokenize", 0), 1) << after.dump();
  }
}

TEST(RunGolden, LimitTakesTheFirstDocsOfEachTask) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", "demo_arith,demo_capitals", "--include_path", examples(),
                       "--limit", "2", "--output-path", out.path() + "/r.json", "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_of(r);
  EXPECT_EQ(res["results"]["demo_arith"]["exact_match,strict-match"].get<double>(), 1.0);
  EXPECT_EQ(res["results"]["demo_capitals"]["acc,none"].get<double>(), 1.0);
  EXPECT_EQ(res["n-samples"]["demo_arith"]["effective"], Json(2));
  EXPECT_EQ(res["n-samples"]["demo_arith"]["original"], Json(5));
}

TEST(RunGolden, MajorityVoteOverRepeats) {
  TempDir dir;
  write_text(dir.file("vote.jsonl"),
             "{\"q\": \"one\", \"a\": \"1\"}\n{\"q\": \"two\", \"a\": \"2\"}\n"
             "{\"q\": \"three\", \"a\": \"3\"}\n");
  write_text(dir.file("vote.yaml"), R"Y(task: vote
dataset_path: json
dataset_kwargs:
  data_files: vote.jsonl
test_split: train
doc_to_text: "Say {{q}} as a digit:"
doc_to_target: "{{a}}"
repeats: 3
generation_kwargs:
  until: ["\n"]
  temperature: 0.7
  do_sample: true
filter_list:
  - name: maj
    filter:
      - function: regex
        regex_pattern: "(\\d+)"
      - function: majority_vote
      - function: take_first
metric_list:
  - metric: exact_match
)Y");
  write_text(dir.file("script.jsonl"),
             "{\"pattern\": \"Say one\", \"reply\": \" it is 1\"}\n"
             "{\"pattern\": \"Say two\", \"reply\": \" it is 2\"}\n"
             "{\"pattern\": \"\", \"reply\": \" no idea\"}\n");
  SimServer sim({"--model", "m", "--mode", "script", "--script", dir.file("script.jsonl")});
  auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks",
                       dir.file("vote.yaml"), "--output_path", dir.file("out"), "--no-cache",
                       "--log_samples"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json res = results_of(r);
  EXPECT_EQ(res["results"]["vote"]["exact_match,maj"].get<double>(), 2.0 / 3.0);
  // Every doc was asked 3 times: 9 requests.
  EXPECT_NE(r.out.find("│ Total                    │ 9"), std::string::npos) << r.out;
  // The samples file holds the three responses of each doc.
  std::string samples;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.file("out")))
    if (e.path().filename().string().rfind("samples_vote", 0) == 0) samples = read_text(e.path());
  ASSERT_FALSE(samples.empty());
  Json first = Json::parse(samples.substr(0, samples.find('\n')));
  ASSERT_TRUE(first["resps"].is_array());
  EXPECT_EQ(first["resps"][0].size(), 3u) << first.dump();
}

TEST(RunGolden, ChatTemplateSendsMessagesForGenerativeTasks) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  TempDir out;
  // Chat rules match the last user message, which here is the whole prompt (single turn,
  // no shots), so the same script gives the same score.
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", examples() + "/arith_gen.yaml", "--apply_chat_template",
                       "--output_path", out.path(), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(results_of(r)["results"]["demo_arith"]["exact_match,strict-match"].get<double>(), 0.6);
}

TEST(RunGolden, MultipleChoiceUnderChatTemplateRunsGenerativelyOrIsRefusedWhenForced) {
  SimServer sim(
      {"--model", "demo-model", "--mode", "script", "--script", examples() + "/sim_script.jsonl"});
  auto refused =
      run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                  "--tasks", examples() + "/capitals_mc.yaml", "--apply_chat_template", "True",
                  "--mc_formulation", "loglikelihood", "--no-cache"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("demo_capitals"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--mc_formulation generative"), std::string::npos) << refused.err;
  TempDir out;
  auto r = run_retort({"run", "--model", "hosted_vllm/demo-model", "--base-url", sim.base_url(),
                       "--tasks", examples() + "/capitals_mc.yaml", "--apply_chat_template", "True",
                       "--output_path", out.path(), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("generative formulation"), std::string::npos) << r.err;
  Json res = results_of(r)["results"]["demo_capitals"];
  EXPECT_TRUE(res.contains("acc,generative")) << res.dump();
  EXPECT_TRUE(res.contains("no_answer,generative")) << res.dump();
  EXPECT_FALSE(res.contains("acc,none")) << res.dump();
}

}  // namespace
}  // namespace retort::testing
