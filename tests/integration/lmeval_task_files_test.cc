// lm-eval's own task files, unchanged, run through `retort run --include_path`: the files
// of lm-eval 4e7e0d4 (lm_eval/tasks/<dir>/<file>.yaml, copied byte for byte below) whose
// `!function` hooks retort provides natively -- aime's and hendrycks_math's process_results,
// humaneval's build_predictions filters and pass_at_k metric, mbpp's pass_at_1 metric,
// build_predictions filter and list_fewshot_samples, the Open LLM Leaderboard's gpqa,
// mmlu_pro, musr and math hooks. Synthetic rows in each dataset's Hub
// schema come from the local Hub stand-in, replies from scripted `retort sim` rules; the
// expected scores are worked out by hand from lm-eval's utils.py functions.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "data/fake_hub.h"
#include "support/code_rows.h"
#include "support/hub_task_test.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

const std::pair<const char*, const char*> kLmEvalFiles[] = {
    {"aime/aime24.yaml",
     R"lm(tag:
  - math_word_problems
task: aime24
dataset_path: Maxwell-Jia/AIME_2024
# dataset_name: null
output_type: generate_until
training_split: train
fewshot_split: train
test_split: train
doc_to_text: "Question: {{Problem}}\nAnswer:"
doc_to_target: "{{Answer}}"
process_results: !function utils.process_results
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
generation_kwargs:
  until:
    - "Question:"
    - "</s>"
    - "<|im_end|>"
    - "<|eot_id|>"
  do_sample: false
  temperature: 0.0
  max_gen_toks: 32768
repeats: 1
num_fewshot: 0
metadata:
  version: 0.0
)lm"},
    {"hendrycks_math/hendrycks_math_algebra.yaml",
     R"lm(tag:
  - math_word_problems
task: hendrycks_math_algebra
dataset_path: EleutherAI/hendrycks_math
process_docs: !function utils.process_docs
dataset_name: algebra
output_type: generate_until
training_split: train
test_split: test
doc_to_text: "Problem: {{problem}}\nAnswer:"
process_results: !function utils.process_results
doc_to_target: "{{answer}}"
generation_kwargs:
  until:
    - "Problem:"
  do_sample: false
  temperature: 0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
)lm"},
    {"humaneval/humaneval.yaml",
     R"lm(task: humaneval
dataset_path: openai/openai_humaneval
unsafe_code: true
output_type: generate_until
test_split: test
doc_to_text: "{{prompt}}"
doc_to_target: "{{test}}\ncheck({{entry_point}})"
metric_list:
  - metric: !function utils.pass_at_k
    aggregation: mean
    higher_is_better: true
    k: [1]
generation_kwargs:
  until:
    - "\nclass"
    - "\ndef"
    - "\n#"
    - "\nif"
    - "\nprint"
  max_gen_toks: 1024
  do_sample: false
repeats: 1
num_fewshot: 0
filter_list:
  - name: "create_test"
    filter:
      - function: "custom"
        filter_fn: !function utils.build_predictions
metadata:
  version: 1.0
)lm"},
    {"humaneval/humaneval_instruct.yaml",
     R"lm(include: humaneval.yaml
task: humaneval_instruct
doc_to_text: "Write a solution to the following problem and make sure that it passes the tests:\n```python\n{{ prompt }}\n```\n"
gen_prefix: "Here is the completed function:\n```python\n{{ prompt }}\n"
filter_list:
  - name: "create_test"
    filter:
      - function: "custom"
        filter_fn: !function utils.build_predictions_instruct
metadata:
  version: 4.0
)lm"},
    {"mbpp/mbpp.yaml",
     R"lm(task: mbpp
dataset_path: google-research-datasets/mbpp
dataset_name: full
unsafe_code: true
output_type: generate_until
test_split: test
doc_to_text: "You are an expert Python programmer, and here is your task: {{text}} Your code should pass these tests:\n\n{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}\n[BEGIN]\n"
doc_to_target: "{% if is_fewshot is defined %}{{code}}\n[DONE]{% else %}{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}{% endif %}"
target_delimiter: ""
metric_list:
  - metric: !function utils.pass_at_1
    aggregation: mean
    higher_is_better: true
generation_kwargs:
  until:
    - "[DONE]"
  do_sample: false
num_fewshot: 3
fewshot_config:
  sampler: first_n
  samples: !function utils.list_fewshot_samples
metadata:
  version: 1.0
)lm"},
    {"mbpp/mbpp_instruct.yaml",
     R"lm(task: mbpp_instruct
dataset_path: google-research-datasets/mbpp
dataset_name: full
unsafe_code: true
output_type: generate_until
test_split: test
doc_to_text: "You are an expert Python programmer, and here is your task:\n{{text}}\nYour code should pass these tests:\n{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}"
doc_to_target: "{% if is_fewshot is defined %}{{code}}\n```{% else %}{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}{% endif %}"
gen_prefix: "\n```python\n"
target_delimiter: ""
metric_list:
  - metric: !function utils.pass_at_1
    aggregation: mean
    higher_is_better: true
filter_list:
  - name: "extract_code"
    filter:
      - function: "custom"
        filter_fn: !function utils.build_predictions
generation_kwargs:
  max_gen_toks: 256
  until: []
  do_sample: false
num_fewshot: 3
fewshot_config:
  sampler: first_n
  samples: !function utils.list_fewshot_samples
metadata:
  version: 1.0
)lm"},
    {"leaderboard/mmlu_pro/mmlu_pro.yaml",
     R"lm(dataset_path: TIGER-Lab/MMLU-Pro # a copy of `cais/leaderboard_mmlu` with no auxiliary_train split
task: leaderboard_mmlu_pro
test_split: test
fewshot_split: validation
fewshot_config:
  sampler: first_n
output_type: multiple_choice
doc_to_text: !function utils.doc_to_text
doc_to_choice: !function utils.doc_to_choice
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
num_fewshot: 5
metadata:
  version: 0.1
)lm"},
    {"leaderboard/musr/_template_yaml",
     R"lm(dataset_path: TAUR-Lab/MuSR
output_type: multiple_choice
doc_to_text: !function utils.doc_to_text
doc_to_target: "{{answer_choice}}"
doc_to_choice: "{{choices}}"
metric_list:
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
)lm"},
    {"leaderboard/musr/musr_murder_mysteries.yaml",
     R"lm(include: "_template_yaml"
task: leaderboard_musr_murder_mysteries
test_split: murder_mysteries
)lm"},
    {"leaderboard/gpqa/_template_yaml",
     R"lm(dataset_path: Idavidrein/gpqa
output_type: multiple_choice
process_docs: !function utils.process_docs
training_split: train
# Because huggingface dataset only has train split
validation_split: train
test_split: null
doc_to_text: "What is the correct answer to this question:{{Question}}\nChoices:\n(A) {{choice1}}\n(B) {{choice2}}\n(C) {{choice3}}\n(D) {{choice4}}\nAnswer: "
doc_to_target: answer
doc_to_choice: ["(A)", "(B)", "(C)", "(D)"]
num_fewshot: 0
metric_list:
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
fewshot_config:
  sampler: first_n
)lm"},
    {"leaderboard/gpqa/gpqa_diamond_zeroshot.yaml",
     R"lm(# Generated by _generate_configs.py
dataset_name: gpqa_diamond
include: _template_yaml
task: leaderboard_gpqa_diamond
)lm"},
    {"leaderboard/math/_template_yaml",
     R"lm(dataset_path: DigitalLearningGmbH/MATH-lighteval
process_docs: !function utils.process_docs
output_type: generate_until
training_split: train
test_split: test
doc_to_text:  !function utils.doc_to_text
process_results: !function utils.process_results
doc_to_target: "{{answer if few_shot is undefined else solution}}"
generation_kwargs:
  until:
    - "Problem:"
  do_sample: false
  temperature: 0
  max_gen_toks: 1024
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
  - metric: exact_match_original
    aggregation: mean
    higher_is_better: true
num_fewshot: 4
metadata:
  version: 3.0
fewshot_config:
  sampler: first_n
  samples: !function utils.list_fewshot_samples
)lm"},
    {"leaderboard/math/math_algebra.yaml",
     R"lm(include: _template_yaml
dataset_name: algebra
task: leaderboard_math_algebra_hard
)lm"},
};

class LmEvalTaskFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [path, text] : kLmEvalFiles) {
      std::filesystem::create_directories(
          std::filesystem::path(dir_.file("tasks/" + std::string(path))).parent_path());
      write_text(dir_.file("tasks/" + std::string(path)), text);
    }
  }

  std::string script(const std::vector<Json>& rules) {
    std::string path = dir_.file("script.jsonl");
    write_text(path, jsonl(rules));
    return path;
  }

  Json run(const SimServer& sim, const std::string& tasks, bool code = false) {
    std::vector<std::string> args = {"run",        "--model",        "hosted_vllm/m",
                                     "--base-url", sim.base_url(),   "--tasks",
                                     tasks,        "--include_path", dir_.file("tasks"),
                                     "--no-cache", "--output_path",  dir_.file("out"),
                                     "--no-db"};
    if (code) args.push_back("--confirm_run_unsafe_code");
    CommandResult r =
        run_retort(args, {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + dir_.file("hf")}, 300);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) {
      ADD_FAILURE() << "no results file\n" << r.out << r.err;
      return Json();
    }
    return Json::parse(read_text(m[1].str()))["results"];
  }

  FakeHub hub_;
  TempDir dir_;
};

TEST_F(LmEvalTaskFiles, Aime24ProcessResultsReadsTheLastBoxOrTheDollarSpan) {
  // Maxwell-Jia/AIME_2024: ID, Problem, Solution, Answer (an integer), one train split.
  hub_.add_commit(
      "Maxwell-Jia/AIME_2024",
      {{"data/train-00000-of-00001.jsonl",
        jsonl({{{"ID", "2024-I-1"}, {"Problem", "Find 2+3."}, {"Solution", "5"}, {"Answer", 5}},
               {{"ID", "2024-I-2"}, {"Problem", "Find 7*6."}, {"Solution", "42"}, {"Answer", 42}},
               {{"ID", "2024-I-3"},
                {"Problem", "Find 3*4."},
                {"Solution", "12"},
                {"Answer", 12}}})}});
  // 1: "$\boxed{5}$": the '$' span is "\boxed{5}", the box replaces it with "5" -> right.
  // 2: "$41$" -> "41" -> wrong.
  // 3: an \fbox fails remove_boxed's assertion, so the '$' span "12" stays -> right.
  // The task asks for max_gen_toks 32768, more than the simulator's default context.
  SimServer sim({"--model", "m", "--max-model-len", "40000", "--script",
                 script({{{"pattern", "Question: Find 2\\+3\\.\\nAnswer:$"},
                          {"reply", " So it is $\\boxed{5}$."}},
                         {{"pattern", "Find 7\\*6"}, {"reply", " We get $41$."}},
                         {{"pattern", "Find 3\\*4"}, {"reply", " \\fbox{13} or rather $12$"}}})});
  Json res = run(sim, "aime24");
  EXPECT_NEAR(res["aime24"]["exact_match,none"].get<double>(), 2.0 / 3, 1e-12) << res.dump();
}

TEST_F(LmEvalTaskFiles, HendrycksMathProcessResultsUsesTheStringRules) {
  // EleutherAI/hendrycks_math, config algebra: problem, level, type, solution.
  auto row = [](const char* problem, const char* solution) {
    return Json{
        {"problem", problem}, {"level", "Level 1"}, {"type", "Algebra"}, {"solution", solution}};
  };
  hub_.add_commit(
      "EleutherAI/hendrycks_math",
      {{"algebra/test-00000-of-00001.jsonl",
        jsonl({row("What is $1+1$?", "We have $1+1=\\boxed{2}$."),
               row("Halve one.", "It is $\\boxed{\\frac{1}{2}}$."),
               row("Compute $3^2$.", "So $3^2=\\boxed{9}$.")})},
       {"algebra/train-00000-of-00001.jsonl", jsonl({row("Add $0$.", "$\\boxed{0}$")})}});
  // 1: "$2$" -> "2" right; 2: "$0.5$" -> strip_string makes "0.5" \frac{1}{2}: right;
  // 3: no '$' pair, the whole reply " It is 8." -> wrong.
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "Problem: What is"}, {"reply", " $2$"}},
                         {{"pattern", "Problem: Halve one"}, {"reply", " That is $0.5$."}},
                         {{"pattern", "Problem: Compute"}, {"reply", " It is 8."}}})});
  Json res = run(sim, "hendrycks_math_algebra");
  EXPECT_NEAR(res["hendrycks_math_algebra"]["exact_match,none"].get<double>(), 2.0 / 3, 1e-12)
      << res.dump();
}

TEST_F(LmEvalTaskFiles, HumanEvalBuildPredictionsAndPassAtK) {
  hub_.add_commit("openai/openai_humaneval",
                  {{"openai_humaneval/test-00000-of-00001.jsonl", jsonl(humaneval_rows())}});
  // humaneval: prompt + reply; instruct: prompt + the reply up to its first ```.
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "completed function:(?s:.*)def add_one"},
                          {"reply", "    return x + 1\n```\nThat adds one."}},
                         {{"pattern", "completed function:(?s:.*)def largest"},
                          {"reply", "    return min(xs)\n```"}},
                         {{"pattern", "def add_one"}, {"reply", "    return x + 1\n"}},
                         {{"pattern", "def largest"}, {"reply", "    return max(xs)\n"}}})});
  Json res = run(sim, "humaneval,humaneval_instruct", true);
  EXPECT_DOUBLE_EQ(res["humaneval"]["pass@1,create_test"].get<double>(), 1.0) << res.dump();
  EXPECT_DOUBLE_EQ(res["humaneval_instruct"]["pass@1,create_test"].get<double>(), 0.5)
      << res.dump();
}

TEST_F(LmEvalTaskFiles, MbppFewShotSamplesFiltersAndPassAt1) {
  hub_.add_commit("google-research-datasets/mbpp",
                  {{"full/test-00000-of-00001.jsonl", jsonl(mbpp_rows())}});
  // The rules match only behind lm-eval's three fixed shots (similar_elements first), so a
  // prompt with other shots gets the simulator's default reply and fails.
  const std::string shots =
      "(?s)^You are an expert(?:.*)similar_elements(?:.*)is_not_prime"
      "(?:.*)heap_queue_largest(?:.*)";
  SimServer sim({"--model", "m", "--script",
                 script({// mbpp_instruct (gen_prefix "\n```python\n"): extract_code_blocks.
                         {{"pattern", shots + "double a number(?:.*)```python\\n$"},
                          {"reply", "\ndef double(n):\n  return 2 * n\n```"}},
                         {{"pattern", shots + "reverse a string(?:.*)```python\\n$"},
                          {"reply", "no code here"}},
                         // mbpp: the raw reply (no filter), cut at [DONE].
                         {{"pattern", shots + "double a number"},
                          {"reply", "def double(n):\n  return n + n\n[DONE]"}},
                         {{"pattern", shots + "reverse a string"},
                          {"reply", "def rev(s):\n  return s\n[DONE]"}}})});
  Json res = run(sim, "mbpp,mbpp_instruct", true);
  EXPECT_DOUBLE_EQ(res["mbpp"]["pass_at_1,none"].get<double>(), 0.5) << res.dump();
  EXPECT_DOUBLE_EQ(res["mbpp_instruct"]["pass_at_1,extract_code"].get<double>(), 0.5) << res.dump();
}

// `retort tasks show NAME` prints the first doc's prompt (and its target); a leaderboard
// file's hooks must give lm-eval's bytes.
std::string shown(const FakeHub& hub, const TempDir& dir, const std::string& task) {
  CommandResult r =
      run_retort({"tasks", "show", task, "--include_path", dir.file("tasks"), "--num_fewshot", "0"},
                 {"HF_ENDPOINT=" + hub.endpoint(), "HF_HOME=" + dir.file("hf")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("no prompt shown"), std::string::npos) << r.out;
  return r.out;
}

TEST_F(LmEvalTaskFiles, LeaderboardMmluProMusrAndGpqaHooks) {
  // TIGER-Lab/MMLU-Pro: question_id, question, options, answer, answer_index, cot_content,
  // category, src; test and validation splits.
  Json q = {{"question_id", 70},
            {"question", "Which is prime?"},
            {"options", {"4", " 7 ", "9"}},
            {"answer", "B"},
            {"answer_index", 1},
            {"cot_content", ""},
            {"category", "math"},
            {"src", "synthetic"}};
  hub_.add_commit("TIGER-Lab/MMLU-Pro", {{"data/test-00000-of-00001.jsonl", jsonl({q})},
                                         {"data/validation-00000-of-00001.jsonl", jsonl({q})}});
  std::string out = shown(hub_, dir_, "leaderboard_mmlu_pro");
  // Options as they are (no strip), letters as the choices.
  EXPECT_NE(out.find("\nWhich is prime?\nA. 4\nB.  7 \nC. 9\nAnswer:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("arg_1: \" C\""), std::string::npos) << out;

  // TAUR-Lab/MuSR: narrative, question, choices (a Python list literal), answer_index,
  // answer_choice; one split per domain.
  hub_.add_commit(
      "TAUR-Lab/MuSR",
      {{"data/murder_mysteries-00000-of-00001.jsonl",
        jsonl({{{"narrative", "It was a dark night."},
                {"question", "Who is the most likely murderer?"},
                {"answers", "['Ann', \"Bob's\"]"},
                {"choices", "['Ann', \"Bob's\"]"},
                {"answer_index", 1},
                {"answer_choice", "Bob's"}}})},
       {"README.md", "---\n---\n"}},
      // Split names other than train/validation/test come from the card's configs.
      Json{{"configs",
            {{{"config_name", "default"},
              {"data_files",
               {{{"split", "murder_mysteries"}, {"path", "data/murder_mysteries-*"}}}}}}}});
  out = shown(hub_, dir_, "leaderboard_musr_murder_mysteries");
  EXPECT_NE(out.find("\nIt was a dark night.\n\nWho is the most likely murderer?\n\n1 - Ann\n2 - "
                     "Bob's\n\nAnswer:\n"),
            std::string::npos)
      << out;

  // Idavidrein/gpqa, config gpqa_diamond: the leaderboard's preprocess also drops "[...]".
  hub_.add_commit("Idavidrein/gpqa", {{"gpqa_diamond/train-00000-of-00001.jsonl",
                                       jsonl({{{"Question", "Which particle is charged?"},
                                               {"Correct Answer", "electron [citation needed]"},
                                               {"Incorrect Answer 1", "photon"},
                                               {"Incorrect Answer 2", "neutron [1] star"},
                                               {"Incorrect Answer 3", "[x]neutrino"}}})}});
  out = shown(hub_, dir_, "leaderboard_gpqa_diamond");
  EXPECT_NE(out.find("What is the correct answer to this question:Which particle is charged?\n"
                     "Choices:\n"),
            std::string::npos)
      << out;
  // "electron [citation needed]" keeps the space before the bracket: lm-eval strips first.
  for (const char* option : {") electron \n", ") photon\n", ") neutron star\n", ") neutrino\n"})
    EXPECT_NE(out.find(option), std::string::npos) << option << "\n" << out;
  EXPECT_EQ(out.find("(A) ["), std::string::npos) << out;
  EXPECT_EQ(out.find("citation"), out.rfind("citation")) << "only the raw doc shows it\n" << out;
}

TEST_F(LmEvalTaskFiles, LeaderboardMathHardKeepsLevel5AndScoresBothWays) {
  // DigitalLearningGmbH/MATH-lighteval, config algebra: problem, level, solution, type.
  auto row = [](const char* problem, const char* level, const char* solution) {
    return Json{
        {"problem", problem}, {"level", level}, {"solution", solution}, {"type", "Algebra"}};
  };
  hub_.add_commit(
      "DigitalLearningGmbH/MATH-lighteval",
      {{"algebra/test-00000-of-00001.jsonl",
        jsonl({row("Compute $1+1$.", "Level 5", "It is $\\boxed{2}$."),
               row("Easy one.", "Level 3", "$\\boxed{7}$"),
               row("Halve $3$.", "Level 5", "Half of 3 is $\\boxed{\\frac{3}{2}}$.")})},
       {"algebra/train-00000-of-00001.jsonl", jsonl({row("Unused.", "Level 5", "$\\boxed{0}$")})}});
  // Behind the four fixed shots (Terrell's weights third): the first reply gives the
  // "Final Answer" sentence (both metrics right); the second only a box, which math-verify
  // reads (exact_match) and the original extraction does not (exact_match_original).
  const std::string shots =
      "(?s)^Problem:\nFind the domain(?:.*)Terrell(?:.*)find \\$\\\\frac\\{a\\}"
      "\\{b\\},\\$(?:.*)";
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", shots + "Compute \\$1\\+1\\$\\.\n\nSolution:$"},
                          {"reply",
                           " 1+1=2.\nFinal Answer: The final answer is $2$. I hope it is "
                           "correct."}},
                         {{"pattern", shots + "Halve \\$3\\$\\.\n\nSolution:$"},
                          {"reply", " So we get $\\boxed{\\frac{3}{2}}$."}}})});
  Json res = run(sim, "leaderboard_math_algebra_hard");
  const Json& t = res["leaderboard_math_algebra_hard"];
  EXPECT_DOUBLE_EQ(t["exact_match,none"].get<double>(), 1.0) << res.dump();
  EXPECT_DOUBLE_EQ(t["exact_match_original,none"].get<double>(), 0.5) << res.dump();
}

}  // namespace
}  // namespace retort::testing
