#include <gtest/gtest.h>

#include "scoring/scoring.h"
#include "util/error.h"

namespace retort {
namespace {

Json J(const char* s) {
  return Json::parse(s);
}

std::vector<MetricSpec> metrics(const char* list, OutputType type) {
  return parse_metric_list(J(list), type, "task.yaml: metric_list");
}

TEST(Metrics, RegistryDefaults) {
  auto mc = default_metrics(OutputType::kMultipleChoice);
  ASSERT_EQ(mc.size(), 2u);
  EXPECT_EQ(mc[0].name, "acc");
  EXPECT_EQ(mc[1].name, "acc_norm");
  EXPECT_EQ(mc[1].aggregation, "mean");
  auto rolling = default_metrics(OutputType::kLoglikelihoodRolling);
  EXPECT_EQ(rolling[0].aggregation, "weighted_perplexity");
  EXPECT_FALSE(rolling[2].higher_is_better);
  EXPECT_EQ(default_aggregation("mcc"), "matthews_corrcoef");
  EXPECT_TRUE(default_higher_is_better("bleu"));
  EXPECT_FALSE(default_higher_is_better("brier_score"));
  EXPECT_FALSE(default_higher_is_better("perplexity"));
}

TEST(Metrics, UnknownMetricListsTheSupportedOnes) {
  try {
    metrics(R"~([{"metric": "accuracy"}])~", OutputType::kMultipleChoice);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "unknown metric 'accuracy'");
    EXPECT_EQ(e.where(), "task.yaml: metric_list[0]");
    EXPECT_NE(e.hint().find("acc_norm"), std::string::npos) << e.hint();
  }
  EXPECT_THROW(
      metrics(R"~([{"metric": "acc", "aggregation": "average"}])~", OutputType::kMultipleChoice),
      Error);
  EXPECT_THROW(metrics(R"~([{"metric": "acc"}])~", OutputType::kGenerateUntil), Error);
}

TEST(Metrics, TerIsLeftOutOfAListWithAWarning) {
  auto specs = metrics(R"~([{"metric": "bleu"}, {"metric": "ter"}, {"metric": "chrf"}])~",
                       OutputType::kGenerateUntil);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[1].name, "chrf");
  EXPECT_THROW(parse_metric(J(R"~({"metric": "ter"})~"), "x"), Error);
}

TEST(Metrics, MetricListKeepsKwargsAndOverrides) {
  auto specs = metrics(R"~([{"metric": "exact_match", "aggregation": "mean",
      "higher_is_better": true, "ignore_case": true, "regexes_to_ignore": [",", "\\$"]}])~",
                       OutputType::kGenerateUntil);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].kwargs, J(R"~({"ignore_case": true, "regexes_to_ignore": [",", "\\$"]})~"));
}

// The 2-shot arithmetic example of lm-eval-semantics.md §4: choices "1","2","3", gold 1.
TEST(Metrics, MultipleChoiceAccAndAccNorm) {
  MultipleChoiceInput in;
  in.choices = {"1", "22", "333"};
  in.lls = {-3.0, -4.0, -4.5};  // argmax 0; per char: -3, -2, -1.5 -> argmax 2
  in.is_greedy = {false, true, false};
  in.gold = 2;
  auto specs = metrics(R"~([{"metric": "acc"}, {"metric": "acc_norm"}, {"metric": "exact_match"},
                           {"metric": "acc_bytes"}])~",
                       OutputType::kMultipleChoice);
  Json v = score_multiple_choice(specs, in);
  EXPECT_EQ(v, J(R"~({"acc": 0.0, "acc_norm": 1.0, "acc_bytes": 1.0, "exact_match": 0})~"));
  // acc_norm counts code points, acc_bytes UTF-8 bytes: "é" is 1 char but 2 bytes.
  in.choices = {"é", "ab"};
  in.lls = {-1.5, -2.5};  // per char -1.5, -1.25 -> 1; per byte -0.75, -1.25 -> 0
  in.is_greedy = {true, false};
  in.gold = "ab";  // a string gold is looked up among the choices
  v = score_multiple_choice(specs, in);
  EXPECT_EQ(v, J(R"~({"acc": 0.0, "acc_norm": 1.0, "acc_bytes": 0.0, "exact_match": 0})~"));
}

TEST(Metrics, MultipleChoiceTiesGoToTheFirstChoiceAndBadGoldScoresZero) {
  MultipleChoiceInput in;
  in.choices = {"a", "b"};
  in.lls = {-1.0, -1.0};
  in.is_greedy = {true, true};
  in.gold = 0;
  auto specs = default_metrics(OutputType::kMultipleChoice);
  EXPECT_EQ(score_multiple_choice(specs, in)["acc"], 1.0);
  in.gold = 5;
  EXPECT_EQ(score_multiple_choice(specs, in)["acc"], 0.0);
  in.gold = "c";
  EXPECT_EQ(score_multiple_choice(specs, in)["acc"], 0.0);
}

TEST(Metrics, MultipleChoiceMultipleTargets) {
  MultipleChoiceInput in;
  in.choices = {"a", "b", "c"};
  in.lls = {-2.0, -1.0, -3.0};
  in.is_greedy = {false, false, true};
  in.gold = J("[1, 2]");
  in.multiple_target = true;
  auto specs =
      metrics(R"~([{"metric": "acc"}, {"metric": "exact_match"}])~", OutputType::kMultipleChoice);
  EXPECT_EQ(score_multiple_choice(specs, in), J(R"~({"acc": 1.0, "exact_match": 1})~"));
}

TEST(Metrics, MultipleChoicePairsForF1MccBrierAndMutualInfo) {
  MultipleChoiceInput in;
  in.choices = {"no", "yes"};
  in.lls = {std::log(0.25), std::log(0.75)};
  in.is_greedy = {false, true};
  in.gold = 1;
  in.lls_unconditional = {std::log(0.1), std::log(0.9)};  // mi: ln 2.5, ln(5/6) -> 0
  auto specs = metrics(R"~([{"metric": "f1"}, {"metric": "mcc"}, {"metric": "brier_score"},
                           {"metric": "acc_mutual_info"}])~",
                       OutputType::kMultipleChoice);
  Json v = score_multiple_choice(specs, in);
  EXPECT_EQ(v["f1"], J("[1, 1]"));
  EXPECT_EQ(v["mcc"], J("[1, 1]"));
  EXPECT_EQ(v["brier_score"][0], 1);
  EXPECT_DOUBLE_EQ(v["brier_score"][1][0].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(v["brier_score"][1][1].get<double>(), 0.75);
  EXPECT_EQ(v["acc_mutual_info"], 0.0);
}

TEST(Metrics, LoglikelihoodAndRolling) {
  auto ll = default_metrics(OutputType::kLoglikelihood);
  EXPECT_EQ(score_loglikelihood(ll, -2.5, true), J(R"~({"perplexity": -2.5, "acc": 1})~"));
  auto rolling = default_metrics(OutputType::kLoglikelihoodRolling);
  // len(re.split(r"\s+", " a b ")) == 4 (leading and trailing empty fields count).
  Json v = score_loglikelihood_rolling(rolling, -10.0, " a b ");
  EXPECT_EQ(v, J(R"~({"word_perplexity": [-10.0, 4], "byte_perplexity": [-10.0, 5],
                     "bits_per_byte": [-10.0, 5]})~"));
  EXPECT_EQ(score_loglikelihood_rolling(rolling, -1.0, "héllo")["byte_perplexity"][1], 6);
}

TEST(Metrics, ExactMatchOptionsApplyInLmEvalOrder) {
  EXPECT_TRUE(exact_match("42", "42"));
  EXPECT_FALSE(exact_match(" 42", "42"));  // no whitespace stripping
  EXPECT_TRUE(exact_match("The Answer", "the answer", J(R"~({"ignore_case": true})~")));
  EXPECT_TRUE(exact_match("a.b,c!", "abc", J(R"~({"ignore_punctuation": true})~")));
  // Only ASCII punctuation is removed.
  EXPECT_FALSE(exact_match("abc¿", "abc", J(R"~({"ignore_punctuation": true})~")));
  EXPECT_TRUE(exact_match("a1b2", "ab", J(R"~({"ignore_numbers": true})~")));
  EXPECT_TRUE(exact_match("$1,000", "1000", J(R"~({"regexes_to_ignore": [",", "\\$"]})~")));
  // regexes_to_ignore runs before ignore_case: "(?-i)X" would not see lowered text.
  EXPECT_TRUE(exact_match("AX", "a", J(R"~({"regexes_to_ignore": ["X"], "ignore_case": true})~")));
}

TEST(Metrics, GenerateUntilExactMatch) {
  auto specs =
      metrics(R"~([{"metric": "exact_match", "ignore_case": true}])~", OutputType::kGenerateUntil);
  // An int target is compared as its str().
  EXPECT_EQ(score_generate(specs, "7", 7, false), J(R"~({"exact_match": 1.0})~"));
  EXPECT_EQ(score_generate(specs, "Paris", "paris", false), J(R"~({"exact_match": 1.0})~"));
  // Multiple targets: any match scores 1.
  EXPECT_EQ(score_generate(specs, "b", J(R"~(["a", "B"])~"), true), J(R"~({"exact_match": 1.0})~"));
  EXPECT_EQ(score_generate(specs, "c", J(R"~(["a", "B"])~"), true), J(R"~({"exact_match": 0.0})~"));
  // With doc_to_choice, the target is an index into the choices.
  std::vector<std::string> choices = {"yes", "no"};
  EXPECT_EQ(score_generate(specs, "no", 1, false, &choices), J(R"~({"exact_match": 1.0})~"));
}

TEST(Metrics, GenerateUntilPassthroughMetricsStorePairs) {
  auto specs =
      metrics(R"~([{"metric": "bleu"}, {"metric": "bypass"}])~", OutputType::kGenerateUntil);
  EXPECT_EQ(score_generate(specs, "the cat", "a cat", false),
            J(R"~({"bleu": ["a cat", "the cat"], "bypass": null})~"));
}

}  // namespace
}  // namespace retort
