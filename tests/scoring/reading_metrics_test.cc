// The reading-comprehension metrics (SQuAD 2.0's official script, DROP's bag F1 with optimal
// alignment, CoQA's leave-one-out scores) on hand-computed cases.
#include "scoring/reading_metrics.h"

#include "scoring/bleu.h"
#include "scoring/rouge.h"

#include <gtest/gtest.h>

#include <cmath>

namespace retort::scoring {
namespace {

TEST(SquadMetrics, NormalizeLowersDropsPunctuationArticlesAndSpaces) {
  EXPECT_EQ(squad_normalize("The  Quick, brown fox!"), "quick brown fox");
  EXPECT_EQ(squad_normalize("An apple a day"), "apple day");
  EXPECT_EQ(squad_normalize("theatre and anthem"), "theatre and anthem");             // \b bounds
  EXPECT_EQ(squad_normalize("\u00c9CLAIR\u00a0caf\u00e9"), "\u00e9clair caf\u00e9");  // Unicode
  EXPECT_EQ(squad_normalize("the"), "");
}

TEST(SquadMetrics, ExactAndF1OnHandCases) {
  EXPECT_EQ(squad_exact("Denver Broncos", "the denver broncos."), 1.0);
  EXPECT_EQ(squad_exact("Denver Broncos", "Broncos"), 0.0);
  // [denver, broncos] vs [broncos, of, denver]: 2 common, P 2/3, R 1.
  EXPECT_NEAR(squad_f1("Denver Broncos", "the Broncos of Denver"), 0.8, 1e-12);
  // Multiset overlap: gold {x, y, y}, prediction {y, y, y, z}: 2 common, P 1/2, R 2/3.
  EXPECT_NEAR(squad_f1("x y y", "y y y z"), 4.0 / 7.0, 1e-12);
  EXPECT_EQ(squad_f1("the", ""), 1.0);  // both sides without tokens
  EXPECT_EQ(squad_f1("a", "b"), 0.0);   // gold without tokens, prediction with
  EXPECT_EQ(squad_f1("cat", "dog"), 0.0);
}

TEST(SquadMetrics, SquadV2CorpusScoresAndBestThreshold) {
  std::vector<SquadV2Item> items = {
      {"a", "the Denver Broncos.", 1e-9, {"Denver Broncos", "Broncos"}},  // exact 1, f1 1
      {"b", "Panthers team", 1e-9, {"Carolina Panthers"}},                // exact 0, f1 .5
      {"c", "It was Tesla", 0.9, {}},                                     // exact 0, f1 0
      {"d", "", 0.95, {}},                                                // exact 1, f1 1
  };
  auto s = squad_v2_evaluate(items);
  EXPECT_DOUBLE_EQ(s["exact"], 50.0);
  EXPECT_DOUBLE_EQ(s["f1"], 62.5);
  EXPECT_DOUBLE_EQ(s["total"], 4);
  EXPECT_DOUBLE_EQ(s["HasAns_exact"], 50.0);
  EXPECT_DOUBLE_EQ(s["HasAns_f1"], 75.0);
  EXPECT_DOUBLE_EQ(s["NoAns_exact"], 50.0);
  EXPECT_DOUBLE_EQ(s["NoAns_f1"], 50.0);
  // From abstaining everywhere (2 unanswerable right): a +1 -> 3 (best), b +0 (exact) or
  // +.5 (f1, best 3.5), c -1 (non-empty prediction), d 0.
  EXPECT_DOUBLE_EQ(s["best_exact"], 75.0);
  EXPECT_DOUBLE_EQ(s["best_f1"], 87.5);
  EXPECT_NEAR(s["best_exact_thresh"], 1e-9, 1e-15);

  // Only answerable questions: no NoAns_* keys; a probability above 1 means "no answer".
  auto t = squad_v2_evaluate({{"a", "Broncos", 1.5, {"Broncos"}}, {"b", "x", 0.0, {"Broncos"}}});
  EXPECT_DOUBLE_EQ(t["exact"], 0.0);
  EXPECT_FALSE(t.count("NoAns_exact"));
  EXPECT_DOUBLE_EQ(t["HasAns_exact"], 0.0);
  // A repeated id is one question (the script's dicts): the last values count.
  auto u = squad_v2_evaluate({{"a", "x", 0.0, {"x"}}, {"a", "y", 0.0, {"x"}}});
  EXPECT_DOUBLE_EQ(u["total"], 1);
  EXPECT_DOUBLE_EQ(u["exact"], 0.0);
}

TEST(DropMetrics, PythonFloatGrammar) {
  EXPECT_EQ(py_float("3"), 3.0);
  EXPECT_EQ(py_float(" 7\n"), 7.0);
  EXPECT_EQ(py_float("1_000"), 1000.0);
  EXPECT_EQ(py_float("-.5"), -0.5);
  EXPECT_EQ(py_float("5."), 5.0);
  EXPECT_EQ(py_float("1e3"), 1000.0);
  EXPECT_EQ(py_float("\u0663"), 3.0);  // ARABIC-INDIC DIGIT THREE
  EXPECT_TRUE(std::isinf(*py_float("-Infinity")));
  EXPECT_TRUE(std::isnan(*py_float("nan")));
  EXPECT_TRUE(std::isinf(*py_float("1e400")));
  for (const char* bad :
       {"", " ", "1__0", "_1", "1_", ".", "e5", "1e", "0x10", "1,000", "\u00bd", "3rd", "--1"})
    EXPECT_FALSE(py_float(bad).has_value()) << bad;
}

TEST(DropMetrics, NormalizeNumbersArticlesPunctuation) {
  EXPECT_EQ(drop_normalize("The 3 cats"), "3.0 cats");
  EXPECT_EQ(drop_normalize("1,000-yard run"), "1000.0 yard run");
  EXPECT_EQ(drop_normalize("3.50"), "3.5");
  EXPECT_EQ(drop_normalize("U.S. Army"), "us army");
  EXPECT_EQ(drop_normalize("Infinity"), "inf");
  EXPECT_EQ(drop_normalize("  a  -  "), "");
}

TEST(DropMetrics, OptimalAssignment) {
  // Rows take columns one to one; the optimum is not the row-by-row or largest-first choice.
  auto best = max_assignment({{1.0, 0.9}, {0.9, 0.0}});
  EXPECT_DOUBLE_EQ(best[0] + best[1], 1.8);
  best = max_assignment({{0.2, 0.9, 0.1}, {0.3, 0.8, 0.0}});  // 2 x 3
  EXPECT_DOUBLE_EQ(best[0] + best[1], 1.2);
  best = max_assignment({{0.5}, {0.7}, {0.1}});  // 3 x 1: one row gets the column
  EXPECT_DOUBLE_EQ(best[0] + best[1] + best[2], 0.7);
  EXPECT_DOUBLE_EQ(best[1], 0.7);
}

TEST(DropMetrics, MultiSpanF1UsesTheOptimalAlignment) {
  // gold rows x predicted columns:
  //   G1 "alpha beta gamma delta": P1 1.0, P2 6/7 (P 1, R 3/4)
  //   G2 "delta epsilon":          P1 1/3 (P 1/4, R 1/2), P2 0
  // Greedy (G1->P1, G2->P2) gives mean .5; the optimum (G1->P2, G2->P1) 0.595... -> 0.6.
  DropScore s = drop_metrics({"alpha beta gamma delta", "alpha beta gamma"},
                             {"alpha beta gamma delta", "delta epsilon"});
  EXPECT_DOUBLE_EQ(s.f1, 0.6);
  EXPECT_EQ(s.em, 0.0);
  // Exact match needs the same set of normalised spans and the same count.
  EXPECT_EQ(drop_metrics({"The Bears", "packers"}, {"Packers", "bears"}).em, 1.0);
  EXPECT_EQ(drop_metrics({"bears", "bears"}, {"bears"}).em, 0.0);
  // A gold number the prediction lacks zeroes the pair.
  EXPECT_EQ(drop_metrics({"3 touchdowns"}, {"4 touchdowns"}).f1, 0.0);
  EXPECT_EQ(drop_metrics({"three touchdowns"}, {"touchdowns"}).f1, 0.67);  // 2/3, rounded
  // One predicted span against two gold spans: the mean runs over max(2, 1) entries.
  EXPECT_EQ(drop_metrics({"bears"}, {"bears", "packers"}).f1, 0.5);
}

TEST(CoqaMetrics, LeaveOneOutOverSeveralGolds) {
  CoqaScore s = coqa_scores({"white", "grey"}, "white");
  // Leaving out "white" leaves "grey" (0); leaving out "grey" leaves "white" (1).
  EXPECT_DOUBLE_EQ(s.em, 0.5);
  EXPECT_DOUBLE_EQ(s.f1, 0.5);
  s = coqa_scores({"a white cat"}, "White cat.");
  EXPECT_DOUBLE_EQ(s.em, 1.0);
  s = coqa_scores({"white cat", "a cat", "cat"}, "black cat");
  // Each leave-one-out best F1: {a cat, cat} -> 2/3; {white cat, cat} -> 2/3; {white cat,
  // a cat} -> 2/3 (both .5 or 2/3): mean 2/3.
  EXPECT_NEAR(s.f1, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.em, 0.0);
}

TEST(TruthfulqaMetrics, IntlTokenizerAndBleuEarlyStop) {
  // Punctuation leaves non-digits, stays inside numbers; symbols stand apart.
  // The final "." stays on the number (mteval-v14's quirk, kept by sacrebleu).
  EXPECT_EQ(tokenize_intl("Hello, world! It costs $3.50."), "Hello , world ! It costs $ 3.50.");
  EXPECT_EQ(tokenize_intl("e=mc\u00b2"), "e = mc\u00b2");
  // No n-gram matches at all: 0, not a smoothed value.
  EXPECT_EQ(bleu_score(bleu_segment_stats("alpha beta gamma delta", {"one two three four"},
                                          BleuTokenizer::kIntl)),
            0.0);
  // A three-token hypothesis equal to its reference has no 4-grams: BLEU 0 (log 0).
  EXPECT_LT(bleu_score(
                bleu_segment_stats("Nothing happens.", {"Nothing happens."}, BleuTokenizer::kIntl)),
            1e-100);
}

TEST(TruthfulqaMetrics, RougeNgramsAndUnionLcs) {
  EXPECT_EQ(rouge_tokenize("It's 3PM, Caf\u00e9!"),
            (std::vector<std::string>{"it", "s", "3pm", "caf"}));
  RougeScores s = rouge_scores("the cat sat on the mat", "the cat on the mat");
  // rouge1: 5 of 5 predicted, 5 of 6 target; rouge2: {the cat, on the, the mat} 3/4, 3/5.
  EXPECT_NEAR(s.rouge1, 2 * 1.0 * (5.0 / 6) / (1.0 + 5.0 / 6), 1e-12);
  EXPECT_NEAR(s.rouge2, 2 * 0.75 * 0.6 / (0.75 + 0.6), 1e-12);
  EXPECT_NEAR(s.rougeLsum, s.rouge1, 1e-12);  // LCS = the prediction
  // Summary level: one target sentence against two predicted lines; the union of the two
  // LCS covers "a b" and "c d": 4 hits of 4 target and 5 predicted tokens.
  RougeScores u = rouge_scores("a b c d", "a b x\nc d");
  EXPECT_NEAR(u.rougeLsum, 2 * (4.0 / 5) * 1.0 / (4.0 / 5 + 1.0), 1e-12);
  // ... while rouge1 sees the same tokens without sentence bounds.
  EXPECT_NEAR(u.rouge1, u.rougeLsum, 1e-12);
  EXPECT_EQ(rouge_scores("", "a").rougeLsum, 0.0);
}

}  // namespace
}  // namespace retort::scoring
