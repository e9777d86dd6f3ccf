// Math answer extraction and equivalence, checked against our corpus
// (tests/scoring/math_equiv_corpus.tsv, written by us; its header explains the format).
//
// The corpus also records, per pair, whether lm-eval's hendrycks_math string rules (the
// rule Evalchemy scores AIME/AMC/MATH500 with) reach the wrong verdict: the "S" column.
// The test checks that column against our port of those rules, so the list of cases where
// string normalisation alone is wrong is exact, not a claim.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scoring/math_equiv.h"

namespace retort::math {
namespace {

struct Case {
  int line = 0;
  char kind = 'E';      // E: two answers; R: gold and a whole reply
  std::string verdict;  // "=", "!=", "?"
  std::string gold, pred;
  std::string rule;  // R: the extraction rule expected
  bool string_wrong = false;
};

std::string unescape_newlines(std::string s) {
  size_t pos = 0;
  while ((pos = s.find("<NL>", pos)) != std::string::npos) s.replace(pos, 4, "\n");
  return s;
}

// Fields are separated by " @@ " (a sequence no answer contains).
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0, pos;
  while ((pos = line.find(" @@ ", start)) != std::string::npos) {
    out.push_back(line.substr(start, pos - start));
    start = pos + 4;
  }
  out.push_back(line.substr(start));
  return out;
}

std::vector<Case> load_corpus(const std::string& name = "math_equiv_corpus.tsv") {
  std::ifstream in(std::string(RETORT_SOURCE_DIR) + "/tests/scoring/" + name);
  EXPECT_TRUE(in.good()) << "tests/scoring/" << name << " not found";
  std::vector<Case> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto f = split_fields(line);
    Case c;
    c.line = n;
    c.kind = f.at(0).at(0);
    c.verdict = f.at(1);
    c.gold = unescape_newlines(f.at(2));
    c.pred = unescape_newlines(f.at(3));
    size_t next = 4;
    if (c.kind == 'R') c.rule = f.at(next++);
    c.string_wrong = f.size() > next && f[next] == "S";
    out.push_back(c);
  }
  return out;
}

Verdict expected_verdict(const std::string& v) {
  if (v == "=") return Verdict::kEqual;
  if (v == "!=") return Verdict::kNotEqual;
  return Verdict::kUnparseable;
}

TEST(MathEquivCorpus, EveryPairGetsTheExpectedVerdict) {
  auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 400u);
  int failures = 0;
  for (const auto& c : corpus) {
    Verdict got;
    std::string extra;
    if (c.kind == 'R') {
      ScoredReply s = score_reply(c.gold, c.pred);
      got = s.equiv.verdict;
      extra =
          std::string(" extracted [") + s.extracted.answer + "] by " + rule_name(s.extracted.rule);
      EXPECT_EQ(rule_name(s.extracted.rule), c.rule) << "line " << c.line << extra;
    } else {
      got = math_equiv(c.gold, c.pred).verdict;
    }
    if (got != expected_verdict(c.verdict)) {
      ++failures;
      EquivResult e = math_equiv(c.gold, c.pred);
      ADD_FAILURE() << "line " << c.line << ": [" << c.gold << "] vs [" << c.pred << "] expected "
                    << c.verdict << " got " << verdict_name(got) << " (normalised ["
                    << e.gold_normalized << "] [" << e.pred_normalized << "])" << extra;
    }
  }
  EXPECT_EQ(failures, 0);
}

// Pairs in the categories published graders test (tests/scoring/math_equiv_graders.tsv,
// written by us; its header names the suites each category comes from). Agreement with the
// stated verdict, and the share of unequal pairs called equal, as the held-out goal
// measures them (>= 95% agreement, <= 2% false "equal"; unparseable counts as not equal).
//   The engine before these pairs (main at 1c36bfc, through `retort score math`):
//     first 299 pairs  257 agree (86.0%), 6 of 99 unequal pairs called equal (6.1%)
//     all 395 pairs    317 agree (80.3%), 12 of 148 called equal (8.1%)
//   After fixing the engine on the first 299 (decimals of 4+ digits, percent as /100,
//   linear inequalities, unions with points, f(x) = ..., named value lists, "32, 349",
//   ",\!", base numerals, r_{0} = r_0, real roots of negatives), the second round of 93
//   pairs, written then: 88 agreed; 3 misses were our own wrong expectations (5/7 rounds to
//   0.7143), 2 were the engine's ("x > 2" = "y > 2" called equal, 0110_2 != 110_2), fixed.
//   Now: 395/395 agree, 0 of 148 unequal pairs called equal.
TEST(MathEquivGraders, CategoriesFromPublishedGraderSuites) {
  auto pairs = load_corpus("math_equiv_graders.tsv");
  ASSERT_GE(pairs.size(), 150u);
  int agree = 0, false_equal = 0, unequal = 0;
  for (const auto& c : pairs) {
    EquivResult e = math_equiv(c.gold, c.pred);
    // Both "not equal" and "unparseable" score 0: a grader's verdict is equal or not.
    bool want_equal = expected_verdict(c.verdict) == Verdict::kEqual;
    bool got_equal = e.verdict == Verdict::kEqual;
    if (!want_equal) ++unequal;
    if (got_equal == want_equal) {
      ++agree;
    } else {
      if (got_equal) ++false_equal;
      ADD_FAILURE() << "line " << c.line << ": [" << c.gold << "] vs [" << c.pred << "] expected "
                    << c.verdict << " got " << verdict_name(e.verdict) << " (normalised ["
                    << e.gold_normalized << "] [" << e.pred_normalized << "])";
    }
  }
  std::cout << "grader-category pairs: " << agree << "/" << pairs.size() << " agree, "
            << false_equal << " of " << unequal << " unequal pairs called equal\n";
  EXPECT_EQ(agree, static_cast<int>(pairs.size()));
  EXPECT_EQ(false_equal, 0);
}

// The S column is exactly the set of pairs where the string rules get the verdict wrong.
TEST(MathEquivCorpus, StringRulesAreWrongExactlyWhereMarked) {
  auto corpus = load_corpus();
  int marked = 0;
  for (const auto& c : corpus) {
    std::string pred = c.pred;
    if (c.kind == 'R') pred = hendrycks_last_boxed_answer(c.pred);
    std::string gold = c.gold;
    if (gold.find("\\boxed") != std::string::npos) gold = hendrycks_last_boxed_answer(gold);
    bool string_equal = hendrycks_is_equiv(gold, pred) && !pred.empty();
    bool truly_equal = c.verdict == "=";
    bool wrong = string_equal != truly_equal;
    EXPECT_EQ(wrong, c.string_wrong)
        << "line " << c.line << ": [" << c.gold << "] vs [" << c.pred << "] string rule says "
        << (string_equal ? "equal" : "not equal");
    marked += c.string_wrong;
  }
  EXPECT_GT(marked, 50);
}

TEST(MathExtract, ThinkingIsNotTheAnswer) {
  EXPECT_EQ(strip_thinking("<think>so \\boxed{3}</think>The answer is \\boxed{4}."),
            "The answer is \\boxed{4}.");
  EXPECT_EQ(strip_thinking("<think>long thoughts \\boxed{3} and then cut"), "");
  EXPECT_EQ(strip_thinking("no thinking \\boxed{5}"), "no thinking \\boxed{5}");
  Extraction e = extract_answer(strip_thinking("<think>\\boxed{3}</think>I do not know."));
  EXPECT_EQ(e.rule, ExtractRule::kNone);
  EXPECT_EQ(e.answer, "");
}

TEST(MathExtract, NestedBracesAndTheLastBox) {
  Extraction e = extract_answer("first \\boxed{1} then \\boxed{\\frac{\\sqrt{3}}{2}} end");
  EXPECT_EQ(e.answer, "\\frac{\\sqrt{3}}{2}");
  EXPECT_EQ(e.rule, ExtractRule::kBoxed);
  e = extract_answer("\\fbox{7} after \\boxed{6}");
  EXPECT_EQ(e.answer, "6");
  e = extract_answer("\\boxed{6} and finally \\fbox{7}");
  EXPECT_EQ(e.answer, "7");
  EXPECT_EQ(e.rule, ExtractRule::kFbox);
  e = extract_answer("the set \\boxed{\\{1, 2\\}}");
  EXPECT_EQ(e.answer, "\\{1, 2\\}");
  // An unbalanced last box falls back to the previous one.
  e = extract_answer("\\boxed{5} then \\boxed{6");
  EXPECT_EQ(e.answer, "5");
  e = extract_answer("So $\\boxed 9$.");
  EXPECT_EQ(e.answer, "9");
}

// Boxes one right after another are the parts of one answer (Math-Verify's tests count
// "\\boxed{1}\\boxed{2}" as "1,2"); boxes with words between them are not.
TEST(MathExtract, AdjacentBoxesAreOneAnswer) {
  EXPECT_EQ(extract_answer("so $\\boxed{1}\\boxed{2}$").answer, "1, 2");
  EXPECT_EQ(extract_answer("x = $\\boxed{2}$ and $\\boxed{-3}$.").answer, "2, -3");
  EXPECT_EQ(extract_answer("\\boxed{a}, \\boxed{b}, \\boxed{c}").answer, "a, b, c");
  EXPECT_EQ(extract_answer("first \\boxed{5}, then we check it: \\boxed{7}").answer, "7");
  EXPECT_EQ(extract_answer("\\boxed{5} $\\boxed{5}$").answer, "5");
  EXPECT_EQ(extract_answer("band\\boxed{4}").answer, "4");
  EXPECT_EQ(extract_gold("$\\boxed{1}\\boxed{2}$").answer, "1, 2");
  EXPECT_EQ(score_reply("$\\boxed{1}\\boxed{2}$", "$\\boxed{1,2}$").equiv.verdict, Verdict::kEqual);
  EXPECT_EQ(score_reply("1, 2", "$\\boxed{2}$ and $\\boxed{1}$").equiv.verdict, Verdict::kEqual);
  EXPECT_EQ(score_reply("1, 2", "$\\boxed{2}$ and $\\boxed{3}$").equiv.verdict, Verdict::kNotEqual);
}

TEST(MathExtract, PhrasesHashesAndLastNumber) {
  EXPECT_EQ(extract_answer("Thus the answer is $\\frac{1}{2}$.").answer, "\\frac{1}{2}");
  EXPECT_EQ(extract_answer("The answer is 3.5.").answer, "3.5");
  EXPECT_EQ(extract_answer("Final Answer: The final answer is $7$. I hope it is correct.").answer,
            "7");
  Extraction e = extract_answer("She pays 5 + 7 = 12 dollars.\n#### 12");
  EXPECT_EQ(e.answer, "12");
  EXPECT_EQ(e.rule, ExtractRule::kHashes);
  e = extract_answer("I computed 3 and then 1,234 apples.");
  EXPECT_EQ(e.answer, "1,234");
  EXPECT_EQ(e.rule, ExtractRule::kLastNumber);
  e = extract_answer("so it is -3/4");
  EXPECT_EQ(e.answer, "-3/4");
  EXPECT_EQ(extract_answer("no digits here").rule, ExtractRule::kNone);
  // A bare answer is taken whole, not cut to its last number.
  e = extract_answer("\\frac{1}{2}");
  EXPECT_EQ(e.answer, "\\frac{1}{2}");
  EXPECT_EQ(e.rule, ExtractRule::kWhole);
  EXPECT_EQ(extract_answer(" (1, 2) ").answer, "(1, 2)");
  EXPECT_EQ(extract_answer("so it is 2x").rule, ExtractRule::kLastNumber);
  // The last inline math span beats the last digit inside it.
  e = extract_answer("We get $\\frac{1}{2}$.");
  EXPECT_EQ(e.answer, "\\frac{1}{2}");
  EXPECT_EQ(e.rule, ExtractRule::kLastMath);
  EXPECT_EQ(extract_answer("Then \\(x = 3\\) works.").answer, "x = 3");
}

TEST(MathExtract, GoldFromASolution) {
  Extraction g = extract_gold("We get $x = \\boxed{\\dfrac{3}{4}}$.");
  EXPECT_EQ(g.answer, "\\dfrac{3}{4}");
  EXPECT_EQ(g.rule, ExtractRule::kBoxed);
  g = extract_gold(" 42 ");
  EXPECT_EQ(g.answer, "42");
  EXPECT_EQ(g.rule, ExtractRule::kWhole);
}

TEST(MathEquiv, EmptyPredictionIsUnparseable) {
  EXPECT_EQ(math_equiv("5", "").verdict, Verdict::kUnparseable);
  EXPECT_EQ(math_equiv("5", "  $ $ ").verdict, Verdict::kUnparseable);
}

TEST(MathEquiv, NormalisedFormsAreReported) {
  EquivResult r = math_equiv("\\dfrac{1}{2}", "$\\left(0.5\\right)$");
  EXPECT_EQ(r.verdict, Verdict::kEqual);
  EXPECT_EQ(r.gold_normalized, "\\frac{1}{2}");
  EXPECT_EQ(r.pred_normalized, "(0.5)");
}

// lm-eval's strip_string rules, from running the Python functions (evalchemy-semantics.md).
TEST(HendrycksRules, MatchThePythonFunctions) {
  EXPECT_FALSE(hendrycks_is_equiv("27", "027"));
  EXPECT_FALSE(hendrycks_is_equiv("27.0", "27"));
  EXPECT_FALSE(hendrycks_is_equiv("1,000", "1000"));
  EXPECT_FALSE(hendrycks_is_equiv("10%", "10"));
  EXPECT_FALSE(hendrycks_is_equiv("Evelyn", "\\text{Evelyn}"));
  EXPECT_FALSE(hendrycks_is_equiv("$5$", "5"));
  EXPECT_TRUE(hendrycks_is_equiv("1/2", "\\frac{1}{2}"));
  EXPECT_TRUE(hendrycks_is_equiv("0.5", "\\frac{1}{2}"));
  EXPECT_TRUE(hendrycks_is_equiv("\\dfrac12", "\\frac{1}{2}"));
  EXPECT_TRUE(hendrycks_is_equiv("k = 5", "5"));
  EXPECT_TRUE(hendrycks_is_equiv("90^\\circ", "90"));
  EXPECT_TRUE(hendrycks_is_equiv("5\\text{ cm}", "5"));
  EXPECT_EQ(hendrycks_last_boxed_answer("a \\boxed{1} b \\boxed{\\frac{2}{3}}"), "\\frac{2}{3}");
  EXPECT_EQ(hendrycks_last_boxed_answer("\\fbox{3}"), "");
  EXPECT_EQ(hendrycks_last_boxed_answer("x \\boxed 5$ and \\boxed{6}"), "5");
}

}  // namespace
}  // namespace retort::math
