// The built-in math tasks (tasks/math/) run end to end against `retort sim --reasoning`:
// synthetic problems in each dataset's real column layout, scripted replies that are right,
// wrong, boxed only inside the thinking, cut off at the token limit, or without an answer,
// and exact expected scores.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>

#include "support/test_support.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::testing {
namespace {

Json results_of(const CommandResult& r) {
  std::smatch m;
  std::regex re("results: (\\S+)");
  if (!std::regex_search(r.out, m, re)) {
    ADD_FAILURE() << "no results path in output:\n" << r.out << "\nstderr:\n" << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

// A reply rule per problem: the sim matches the problem's text in the user message.
std::string script() {
  std::string long_thought;
  for (int i = 0; i < 300; ++i) long_thought += "consider the cases again ";
  // Replies with no thinking that run past --max_tokens 60 (each " \\," and " ." is one sim
  // token): cut there, the text is a bare "7", or ends with the number 7, or holds \boxed{7}.
  std::string spaces, dots;
  for (int i = 0; i < 100; ++i) {
    spaces += " \\,";
    dots += " .";
  }
  Json rules = Json::array({
      {{"pattern", "P-right"},
       {"reply", "<think>Try two hundred and four.</think>So the answer is $\\boxed{204}$."}},
      {{"pattern", "P-equiv"}, {"reply", "<think>Half.</think>The probability is $\\boxed{0.5}$."}},
      {{"pattern", "P-wrong"}, {"reply", "<think>Hmm.</think>It is $\\boxed{205}$."}},
      {{"pattern", "P-thinkonly"},
       {"reply", "<think>It is \\boxed{33}.</think>I could not finish the problem."}},
      {{"pattern", "P-truncated"}, {"reply", "<think>" + long_thought + "</think>\\boxed{7}"}},
      {{"pattern", "P-none"}, {"reply", "<think>No idea.</think>I do not know how to solve it."}},
      {{"pattern", "P-cutwhole"}, {"reply", "7" + spaces}},
      {{"pattern", "P-cutnumber"}, {"reply", "Adding the parts gives 7 and then" + dots}},
      {{"pattern", "P-cutboxed"}, {"reply", "So it is \\boxed{7} and then" + dots}},
      {{"pattern", "H-exact"}, {"reply", " We get $\\frac{1}{2}$."}},
      {{"pattern", "H-slash"}, {"reply", " So $\\boxed{1/2}$."}},
      {{"pattern", "H-wrong"}, {"reply", " It is $3$."}},
      // minerva_math: the exemplars' closing sentence, or not.
      {{"pattern", "M-right"},
       {"reply",
        " Halve it.\nFinal Answer: The final answer is $\\frac12$. I hope it is correct."}},
      {{"pattern", "M-equiv"},
       {"reply",
        " So $x = 0.5$.\nFinal Answer: The final answer is $\\frac{1}{2}$. I hope it is "
        "correct."}},
      {{"pattern", "M-wrong"},
       {"reply", " Count.\nFinal Answer: The final answer is $3$. I hope it is correct."}},
      {{"pattern", "M-noformat"}, {"reply", " Thus the result is $\\boxed{7}$."}},
      {{"pattern", "M-units"},
       {"reply", " Measure.\nFinal Answer: The final answer is $5$ cm. I hope it is correct."}},
  });
  std::string out;
  for (const auto& r : rules) out += r.dump() + "\n";
  return out;
}

struct MathRun {
  CommandResult result;
  Json results;               // results["local_math"]
  Json document;              // the whole results file
  std::vector<Json> samples;  // the samples log, one record per line
};

// Runs a built-in task whose data comes from a local file instead of the Hub: a wrapper
// task includes the real YAML (prompt, generation settings, filters, metrics) and only
// points dataset_path at `rows` written as JSON Lines.
MathRun run_math_task(const std::string& yaml, const std::string& split_name,
                      const std::vector<Json>& rows, const std::vector<std::string>& extra,
                      bool chat = true) {
  TempDir dir;
  std::string data;
  for (const auto& r : rows) data += r.dump() + "\n";
  write_text(dir.file("data.jsonl"), data);
  write_text(dir.file("script.jsonl"), script());
  write_text(dir.file("local.yaml"), "include: " + source_dir() + "/tasks/" + yaml +
                                         "\ntask: local_math\ndataset_path: json\n"
                                         "dataset_kwargs:\n  data_files:\n    " +
                                         split_name + ": " + dir.file("data.jsonl") + "\n");
  SimServer sim(
      {"--model", "m", "--mode", "script", "--script", dir.file("script.jsonl"), "--reasoning"});
  std::vector<std::string> args = {"run",
                                   "--model",
                                   "hosted_vllm/m",
                                   "--base-url",
                                   sim.base_url(),
                                   "--tasks",
                                   dir.file("local.yaml"),
                                   "--output_path",
                                   dir.file("out"),
                                   "--no-cache",
                                   "--log_samples",
                                   "--max_tokens",
                                   "60"};
  if (chat) args.push_back("--apply_chat_template");
  args.insert(args.end(), extra.begin(), extra.end());
  MathRun run;
  run.result = run_retort(args);
  if (run.result.exit_code == 0) {
    run.document = results_of(run.result);
    run.results = run.document["results"]["local_math"];
    std::smatch m;
    std::regex re("samples: (\\S+)");
    if (std::regex_search(run.result.out, m, re))
      for (const auto& line : split(read_text(m[1].str()), '\n'))
        if (!line.empty()) run.samples.push_back(Json::parse(line));
  }
  return run;
}

Json aime24_row(const std::string& problem, int answer) {
  return {{"id", 60 + answer},
          {"problem", problem},
          {"solution", "Synthetic solution."},
          {"answer", std::to_string(answer)},
          {"url", "https://example.invalid/p"}};
}

TEST(MathTasks, Aime24ScoresRightWrongThinkingOnlyTruncatedAndNoAnswer) {
  std::vector<Json> rows = {
      aime24_row("P-right: find x.", 204), aime24_row("P-wrong: find y.", 204),
      aime24_row("P-thinkonly: find z.", 33), aime24_row("P-truncated: find w.", 7),
      aime24_row("P-none: find v.", 1)};
  MathRun run = run_math_task("math/aime24.yaml", "train", rows, {"--repeats", "2"});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  const Json& r = run.results;
  EXPECT_DOUBLE_EQ(r["math_equiv,none"].get<double>(), 0.2) << r.dump();
  // Identical repeats: no spread across repeats.
  EXPECT_DOUBLE_EQ(r["math_equiv_stderr,none"].get<double>(), 0.0) << r.dump();
  EXPECT_DOUBLE_EQ(r["pass@1,none"].get<double>(), 0.2) << r.dump();
  EXPECT_DOUBLE_EQ(r["maj@10,none"].get<double>(), 0.2) << r.dump();
  // The truncated problem's two replies are counted and named.
  EXPECT_NE(run.result.err.find("2 of 10 replies truncated"), std::string::npos) << run.result.err;
  // ... and counted in the results, the score table and the run statistics.
  const Json& rt = run.document["retort"];
  EXPECT_EQ(rt["truncated"]["local_math"], (Json{{"truncated", 2}, {"replies", 10}})) << rt.dump();
  EXPECT_EQ(rt["stats"]["truncated"], 2) << rt.dump();
  // Thinking only, truncated and unanswered: three problems without a final answer, twice.
  EXPECT_EQ(rt["no_answer"]["local_math"], (Json{{"no_answer", 6}, {"replies", 10}})) << rt.dump();
  EXPECT_NE(run.result.out.find("local_math (2 of 10 truncated, 6 no answer)"), std::string::npos)
      << run.result.out;
  EXPECT_NE(run.result.out.find("Truncated Replies (length)"), std::string::npos) << run.result.out;
  // Evalchemy's names beside lm-eval's (AIME24/eval_instruct.py L127-156).
  EXPECT_EQ(r["num_total"], 5) << r.dump();
  EXPECT_EQ(r["num_repeat"], 2) << r.dump();
  EXPECT_DOUBLE_EQ(r["accuracy_avg"].get<double>(), 0.2) << r.dump();
  EXPECT_DOUBLE_EQ(r["accuracy_std_err"].get<double>(), 0.0) << r.dump();
  EXPECT_DOUBLE_EQ(r["solved_avg"].get<double>(), 1.0) << r.dump();
  ASSERT_EQ(r["run_stats"].size(), 2u) << r.dump();
  EXPECT_EQ(r["run_stats"][1]["repetition"], 2);
  EXPECT_EQ(r["run_stats"][1]["num_solved"], 1);
  // The samples log: per repeat, the rule, both normalised forms, the verdict and the
  // reasoning's length (the sim returns the thinking as reasoning_content).
  std::map<std::string, Json> by_problem;
  for (const auto& rec : run.samples) by_problem[rec["doc"]["problem"]] = rec["retort"];
  ASSERT_EQ(by_problem.size(), 5u);
  const Json& right = by_problem["P-right: find x."];
  ASSERT_EQ(right["answers"].size(), 2u) << right.dump();
  EXPECT_EQ(right["answers"][0]["rule"], "boxed");
  EXPECT_EQ(right["answers"][0]["extracted"], "204");
  EXPECT_EQ(right["answers"][0]["pred_normalized"], "204");
  EXPECT_EQ(right["answers"][0]["gold_normalized"], "204");
  EXPECT_EQ(right["answers"][0]["verdict"], "equal");
  EXPECT_EQ(right["answers"][0]["no_answer"], false);
  EXPECT_EQ(right["responses"][0][0]["reasoning_chars"], 25) << right.dump();
  EXPECT_EQ(by_problem["P-wrong: find y."]["answers"][1]["verdict"], "not_equal");
  EXPECT_EQ(by_problem["P-wrong: find y."]["answers"][1]["extracted"], "205");
  const Json& none = by_problem["P-none: find v."]["answers"][0];
  EXPECT_EQ(none["rule"], "none");
  EXPECT_EQ(none["verdict"], "unparseable");
  EXPECT_EQ(none["no_answer"], true);
  EXPECT_EQ(by_problem["P-truncated: find w."]["responses"][0][0]["finish_reason"], "length");
  EXPECT_EQ(by_problem["P-thinkonly: find z."]["answers"][0]["no_answer"], true);
}

// A reply cut at the token limit has an answer only where it wrote one explicitly: the
// whole cut text or its last number is where the limit fell, not an answer.
TEST(MathTasks, TruncatedRepliesAnswerOnlyExplicitly) {
  std::vector<Json> rows = {aime24_row("P-cutwhole: a.", 7), aime24_row("P-cutnumber: b.", 7),
                            aime24_row("P-cutboxed: c.", 7), aime24_row("P-right: d.", 204)};
  MathRun run = run_math_task("math/aime24.yaml", "train", rows, {"--repeats", "1"});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_DOUBLE_EQ(run.results["math_equiv,none"].get<double>(), 0.5) << run.results.dump();
  Json rt = run.document["retort"];
  EXPECT_EQ(rt["truncated"]["local_math"], (Json{{"truncated", 3}, {"replies", 4}})) << rt.dump();
  EXPECT_EQ(rt["no_answer"]["local_math"], (Json{{"no_answer", 2}, {"replies", 4}})) << rt.dump();
  std::map<std::string, Json> by_problem, reply_of;
  for (const auto& rec : run.samples) {
    by_problem[rec["doc"]["problem"]] = rec["retort"];
    reply_of[rec["doc"]["problem"]] = rec["resps"][0][0];
  }
  for (const char* p : {"P-cutwhole: a.", "P-cutnumber: b."}) {
    Json a = by_problem[p]["answers"][0];
    EXPECT_EQ(by_problem[p]["responses"][0][0]["finish_reason"], "length") << p;
    EXPECT_EQ(a["rule"], "none") << p << ": " << a.dump();
    EXPECT_EQ(a["no_answer"], true) << p;
  }
  Json boxed = by_problem["P-cutboxed: c."]["answers"][0];
  EXPECT_EQ(boxed["rule"], "boxed") << boxed.dump();
  EXPECT_EQ(boxed["verdict"], "equal") << boxed.dump();
  // The same replies scored again by `retort score math` with their finish_reason.
  TempDir dir;
  std::string lines;
  for (const char* p : {"P-cutwhole: a.", "P-cutboxed: c."})
    lines += Json{{"gold", "7"}, {"pred", reply_of[p]}, {"finish_reason", "length"}}.dump() + "\n";
  lines += Json{{"gold", "7"}, {"pred", reply_of["P-cutwhole: a."]}}.dump() + "\n";
  write_text(dir.file("in.jsonl"), lines);
  CommandResult scored = run_retort({"score", "math", dir.file("in.jsonl")});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  std::vector<std::string> out = split(scored.out, '\n');
  ASSERT_GE(out.size(), 3u) << scored.out;
  EXPECT_EQ(Json::parse(out[0])["rule"], "none") << out[0];
  EXPECT_EQ(Json::parse(out[1])["equal"], true) << out[1];
  // Without finish_reason the same text reads as a bare answer.
  EXPECT_EQ(Json::parse(out[2])["rule"], "whole") << out[2];
}

// Reasoning tokens: recorded per reply when the server reports them
// (usage.completion_tokens_details.reasoning_tokens), null when it does not (vLLM), with the
// reasoning's characters either way; both in the run statistics.
TEST(MathTasks, ReasoningTokensWhenTheServerReportsThem) {
  std::vector<Json> rows = {aime24_row("P-right: find x.", 204)};
  TempDir dir;
  std::string data = rows[0].dump() + "\n";
  write_text(dir.file("data.jsonl"), data);
  write_text(dir.file("script.jsonl"), script());
  write_text(dir.file("local.yaml"), "include: " + source_dir() +
                                         "/tasks/math/aime24.yaml\ntask: local_math\n"
                                         "dataset_path: json\ndataset_kwargs:\n  data_files:\n"
                                         "    train: " +
                                         dir.file("data.jsonl") + "\n");
  for (bool reported : {true, false}) {
    for (bool stream : {false, true}) {
      std::vector<std::string> sim_args = {
          "--model", "m", "--mode", "script", "--script", dir.file("script.jsonl"), "--reasoning"};
      if (reported) sim_args.push_back("--reasoning-tokens");
      SimServer sim(sim_args);
      std::vector<std::string> args = {
          "run",           "--model",    "hosted_vllm/m",        "--base-url",
          sim.base_url(),  "--tasks",    dir.file("local.yaml"), "--output_path",
          dir.file("out"), "--no-cache", "--log_samples",        "--apply_chat_template",
          "--repeats",     "1",          "--max_tokens",         "60"};
      if (stream) args.push_back("--stream");
      CommandResult r = run_retort(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      std::smatch m;
      std::regex re("samples: (\\S+)");
      ASSERT_TRUE(std::regex_search(r.out, m, re)) << r.out;
      Json rec = Json::parse(split(read_text(m[1].str()), '\n')[0]);
      Json resp = rec["retort"]["responses"][0][0];
      // "<think>Try two hundred and four.</think>" is 11 sim tokens ("<", "think", ">",
      // "Try", " two", " hundred", " and", " four", ".</", "think", ">"); 25 characters of
      // reasoning between the tags.
      EXPECT_EQ(resp["reasoning_chars"], 25) << resp.dump();
      Json stats = results_of(r)["retort"]["stats"];
      EXPECT_EQ(stats["reasoning_chars"], 25) << stats.dump();
      EXPECT_EQ(stats["reasoning_replies"], 1) << stats.dump();
      if (reported) {
        EXPECT_EQ(resp["reasoning_tokens"], 11) << "stream " << stream << ": " << resp.dump();
        EXPECT_EQ(stats["reasoning_tokens"], 11) << stats.dump();
        EXPECT_EQ(stats["reasoning_token_replies"], 1) << stats.dump();
        EXPECT_NE(r.out.find("Reasoning Tokens"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("11 in 1 replies"), std::string::npos) << r.out;
      } else {
        ASSERT_TRUE(resp.contains("reasoning_tokens")) << resp.dump();
        EXPECT_TRUE(resp["reasoning_tokens"].is_null()) << resp.dump();
        EXPECT_TRUE(stats["reasoning_tokens"].is_null()) << stats.dump();
        EXPECT_NE(r.out.find("not reported by the server"), std::string::npos) << r.out;
      }
    }
  }
}

TEST(MathTasks, MostRepliesTruncatedNamesTheFlagToRaise) {
  std::vector<Json> rows = {aime24_row("P-truncated: a.", 7), aime24_row("P-truncated: b.", 7),
                            aime24_row("P-right: c.", 204)};
  MathRun run = run_math_task("math/aime24.yaml", "train", rows, {"--repeats", "1"});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_NEAR(run.results["math_equiv,none"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_NE(run.result.err.find("2 of 3 replies truncated"), std::string::npos) << run.result.err;
  EXPECT_NE(run.result.err.find("--max_tokens"), std::string::npos) << run.result.err;
}

TEST(MathTasks, Aime25AndLimitCountsProblems) {
  std::vector<Json> rows;
  for (const char* p : {"P-right", "P-wrong", "P-none", "P-right"})
    rows.push_back({{"problem", std::string(p) + " problem"}, {"answer", "204"}, {"id", "1"}});
  MathRun run = run_math_task("math/aime25.yaml", "test", rows, {"--repeats", "1", "--limit", "2"});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_DOUBLE_EQ(run.results["math_equiv,none"].get<double>(), 0.5);
}

TEST(MathTasks, Amc23ReadsIntegerAnswers) {
  std::vector<Json> rows = {{{"id", 0}, {"question", "P-right: q1"}, {"answer", 204}},
                            {{"id", 1}, {"question", "P-thinkonly: q2"}, {"answer", 33}},
                            {{"id", 2}, {"question", "P-wrong: q3"}, {"answer", 205.0}}};
  MathRun run = run_math_task("math/amc23.yaml", "test", rows, {"--repeats", "3"});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  // 205.0 (a float in the data) is 205: the third reply is right too.
  EXPECT_NEAR(run.results["math_equiv,none"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(run.results["pass@1,none"].get<double>(), 2.0 / 3.0, 1e-12);
}

TEST(MathTasks, Math500UsesMathematicalEquivalence) {
  auto row = [](const std::string& problem, const std::string& answer) {
    return Json{{"problem", problem}, {"solution", "\\boxed{" + answer + "}"},
                {"answer", answer},   {"subject", "Algebra"},
                {"level", 3},         {"unique_id", "test/algebra/1.json"}};
  };
  std::vector<Json> rows = {row("P-equiv: a coin", "\\frac{1}{2}"), row("P-right: b", "204"),
                            row("P-wrong: c", "204"), row("P-none: d", "3")};
  MathRun run = run_math_task("math/math500.yaml", "test", rows, {});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_DOUBLE_EQ(run.results["math_equiv,none"].get<double>(), 0.5);
  // One repeat: the usual standard error of the mean over problems.
  EXPECT_NEAR(run.results["math_equiv_stderr,none"].get<double>(), std::sqrt(1.0 / 12.0), 1e-12);
  // Evalchemy's MATH500 keys (MATH500/eval_instruct.py L109-128): no repeats, no stderr.
  EXPECT_EQ(run.results["num_total"], 4) << run.results.dump();
  EXPECT_EQ(run.results["num_solved"], 2) << run.results.dump();
  EXPECT_DOUBLE_EQ(run.results["accuracy"].get<double>(), 0.5);
  EXPECT_FALSE(run.results.contains("accuracy_std_err"));
  // No reply was cut: no truncation entry, note or statistics row.
  EXPECT_FALSE(run.document["retort"]["truncated"].contains("local_math"));
  EXPECT_EQ(run.result.out.find("truncated"), std::string::npos) << run.result.out;
}

// lm-eval's hendrycks_math: the answer is the last \\boxed{} of the solution; exact_match
// compares the reply's $...$ span by string rules, math_equiv its final answer by value.
TEST(MathTasks, HendrycksMathKeepsLmEvalsScoreAndAddsMathEquiv) {
  auto row = [](const std::string& problem, const std::string& solution) {
    return Json{
        {"problem", problem}, {"level", "Level 2"}, {"type", "Algebra"}, {"solution", solution}};
  };
  std::vector<Json> rows = {row("H-exact one", "So it is $\\boxed{\\frac{1}{2}}$."),
                            row("H-slash two", "Thus $\\boxed{\\frac12}$."),
                            row("H-wrong three", "Hence $\\boxed{4}$.")};
  MathRun run = run_math_task("hendrycks_math/hendrycks_math_algebra.yaml", "test", rows, {},
                              /*chat=*/false);
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_NEAR(run.results["exact_match,none"].get<double>(), 1.0 / 3.0, 1e-12)
      << run.results.dump();
  EXPECT_NEAR(run.results["math_equiv,math"].get<double>(), 2.0 / 3.0, 1e-12) << run.results.dump();
}

// lm-eval's minerva_math: exact_match reads "The final answer is X." and compares the
// normalised forms; math_verify compares the solution's box with the reply's final answer.
TEST(MathTasks, MinervaMathExactMatchAndMathVerify) {
  auto row = [](const std::string& problem, const std::string& solution) {
    return Json{
        {"problem", problem}, {"level", "Level 3"}, {"type", "Algebra"}, {"solution", solution}};
  };
  std::vector<Json> rows = {row("M-right one", "So $x = \\boxed{\\frac{1}{2}}$."),
                            row("M-equiv two", "Hence $\\boxed{0.5}$."),
                            row("M-wrong three", "We get $\\boxed{4}$."),
                            row("M-noformat four", "It is $\\boxed{7}$."),
                            row("M-units five", "The side is $\\boxed{5\\text{ cm}}$.")};
  MathRun run = run_math_task("minerva_math/minerva_math_algebra.yaml", "test", rows, {},
                              /*chat=*/false);
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  // exact_match: right, equivalent and units; wrong is 0, and so is the reply without the
  // closing sentence (its answer is "[invalidanswer]").
  EXPECT_NEAR(run.results["exact_match,none"].get<double>(), 3.0 / 5.0, 1e-12)
      << run.results.dump();
  // math_verify also accepts the boxed reply without the closing sentence.
  EXPECT_NEAR(run.results["math_verify,none"].get<double>(), 4.0 / 5.0, 1e-12)
      << run.results.dump();
  // The prompt: four exemplars, then the problem.
  ASSERT_EQ(run.samples.size(), 5u);
  const std::string prompt = run.samples[0]["arguments"]["gen_args_0"]["arg_0"];
  EXPECT_EQ(prompt.rfind("Problem:\nFind the domain of the expression", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("I hope it is correct.\n\nProblem:\nM-right one\n\nSolution:"),
            std::string::npos)
      << prompt;
  EXPECT_EQ(run.samples[0]["target"], "\\frac{1}{2}");
}

}  // namespace
}  // namespace retort::testing
