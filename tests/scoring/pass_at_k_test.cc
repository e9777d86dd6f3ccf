#include "scoring/pass_at_k.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace retort {
namespace {

// Independent reference: the closed form with exact binomials (small n only).
double binom(int64_t n, int64_t k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

TEST(PassAtK, MatchesClosedFormOnEverySmallCase) {
  for (int64_t n = 1; n <= 12; ++n)
    for (int64_t c = 0; c <= n; ++c)
      for (int64_t k = 1; k <= n; ++k) {
        double want = 1.0 - binom(n - c, k) / binom(n, k);
        EXPECT_NEAR(pass_at_k(n, c, k), want, 1e-12) << n << " " << c << " " << k;
      }
}

TEST(PassAtK, KnownValues) {
  EXPECT_DOUBLE_EQ(pass_at_k(10, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(10, 10, 5), 1.0);
  EXPECT_NEAR(pass_at_k(10, 3, 1), 0.3, 1e-15);  // pass@1 is the fraction correct
  EXPECT_NEAR(pass_at_k(5, 2, 2), 1.0 - 3.0 / 10.0, 1e-15);
  EXPECT_NEAR(pass_at_k(200, 1, 100), 0.5, 1e-12);
}

TEST(PassAtK, RejectsImpossibleArguments) {
  EXPECT_THROW(pass_at_k(5, 1, 0), std::invalid_argument);
  EXPECT_THROW(pass_at_k(5, 1, 6), std::invalid_argument);
  EXPECT_THROW(pass_at_k(5, 6, 1), std::invalid_argument);
}

TEST(PassAtK, MeanSkipsProblemsWithTooFewSamples) {
  auto m = mean_pass_at_k({{4, 2}, {1, 1}, {4, 0}}, 2);
  ASSERT_TRUE(m.has_value());
  EXPECT_NEAR(*m, (pass_at_k(4, 2, 2) + 0.0) / 2.0, 1e-15);
  EXPECT_FALSE(mean_pass_at_k({{1, 1}}, 2).has_value());
}

TEST(MajorityAnswer, TiesGoToTheFirstSeenAndEmptyNeverWins) {
  EXPECT_EQ(majority_answer({"3", "4", "4", "3"}), "3");  // as Counter.most_common(1)
  EXPECT_EQ(majority_answer({"3", "4", "4"}), "4");
  EXPECT_EQ(majority_answer({"", "", "7"}), "7");
  EXPECT_EQ(majority_answer({"", ""}), "");
  EXPECT_EQ(majority_answer({"a", "b"}), "a");
}

}  // namespace
}  // namespace retort
