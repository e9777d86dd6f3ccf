// The paired statistics of `retort compare`, checked against closed-form values on
// constructed cases and against reference computations written independently here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "store/compare.h"

namespace retort::store {
namespace {

// Reference: two-sided exact binomial(n, 1/2) test by direct products (no lgamma).
double ref_mcnemar(int b, int c) {
  int n = b + c, k = std::min(b, c);
  double sum = 0, term = std::pow(0.5, n);  // C(n,0)/2^n
  for (int i = 0; i <= k; ++i) {
    sum += term;
    term = term * (n - i) / (i + 1);
  }
  return std::min(1.0, 2 * sum);
}

// Reference cluster-robust SE (CR1-style small-sample factor G/(G-1)), computed from
// per-cluster sums gathered in a map.
double ref_cluster_se(const std::vector<double>& d, const std::vector<int64_t>& g) {
  double mean = 0;
  for (double x : d) mean += x;
  mean /= static_cast<double>(d.size());
  std::map<int64_t, double> sums;
  for (size_t i = 0; i < d.size(); ++i) sums[g[i]] += d[i] - mean;
  double ss = 0;
  for (const auto& [k, v] : sums) ss += v * v;
  double G = static_cast<double>(sums.size());
  return std::sqrt(G / (G - 1) * ss) / static_cast<double>(d.size());
}

TEST(Distributions, StudentTMatchesTables) {
  // Quantiles from standard t tables.
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062047, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 29), 2.0452296, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.9599640, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.025, 10), -2.2281389, 1e-6);
  EXPECT_NEAR(student_t_two_sided_p(2.0452296, 29), 0.05, 1e-7);
  // df = 1 is the Cauchy distribution: P(|T| >= t) = 1 - 2 atan(t) / pi.
  EXPECT_NEAR(student_t_two_sided_p(3.0, 1), 1 - 2 * std::atan(3.0) / M_PI, 1e-12);
  // df = 2 has a closed form too: P(|T| >= t) = 1 - t / sqrt(2 + t^2).
  EXPECT_NEAR(student_t_two_sided_p(1.5, 2), 1 - 1.5 / std::sqrt(2 + 2.25), 1e-12);
  EXPECT_DOUBLE_EQ(student_t_two_sided_p(0.0, 5), 1.0);
}

TEST(Distributions, McNemarExactMatchesBinomialSums) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(3, 0), 0.25);             // 2 * (1/2)^3
  EXPECT_NEAR(mcnemar_exact_p(10, 2), 158.0 / 4096, 1e-12);  // 2 * (1 + 12 + 66) / 2^12
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(4, 4), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  for (auto [b, c] : std::vector<std::pair<int, int>>{{7, 1}, {20, 9}, {0, 30}, {55, 40}})
    EXPECT_NEAR(mcnemar_exact_p(b, c), ref_mcnemar(b, c), 1e-12) << b << " " << c;
}

TEST(PairedStats, ZeroOneMetricUsesMcNemarAndThePairedTInterval) {
  // n = 30: 6 docs only B gets right, 2 only A, 10 both, 12 neither.
  std::vector<double> a, b;
  auto add = [&](int count, double x, double y) {
    for (int i = 0; i < count; ++i) {
      a.push_back(x);
      b.push_back(y);
    }
  };
  add(6, 0, 1);
  add(2, 1, 0);
  add(10, 1, 1);
  add(12, 0, 0);
  PairedStats s = paired_stats(a, b);
  EXPECT_EQ(s.method, "mcnemar");
  EXPECT_TRUE(s.binary);
  EXPECT_EQ(s.b_only, 6);
  EXPECT_EQ(s.a_only, 2);
  EXPECT_DOUBLE_EQ(s.mean_a, 12.0 / 30);
  EXPECT_DOUBLE_EQ(s.mean_b, 16.0 / 30);
  EXPECT_NEAR(s.diff, 4.0 / 30, 1e-15);
  // d: six +1, two -1, 22 zeros. var = (sum d^2 - n mean^2) / (n - 1).
  double var = (8.0 - 30 * (4.0 / 30) * (4.0 / 30)) / 29;
  double se = std::sqrt(var / 30);
  EXPECT_NEAR(s.se, se, 1e-12);
  EXPECT_NEAR(s.ci_low, 4.0 / 30 - 2.0452296 * se, 1e-6);
  EXPECT_NEAR(s.ci_high, 4.0 / 30 + 2.0452296 * se, 1e-6);
  EXPECT_NEAR(s.p_value, 2.0 * (1 + 8 + 28) / 256, 1e-12);  // exact McNemar on (2, 6)
  EXPECT_EQ(describe(s, true),
            "n=30: differences under ±18.9 points are noise; this one (+13.3) does not tell "
            "the runs apart (p=0.29).");
}

TEST(PairedStats, ASignificantDifferenceIsSaidSo) {
  std::vector<double> a(200, 0.0), b(200, 0.0);
  for (int i = 0; i < 60; ++i) b[i] = 1;   // only B
  for (int i = 60; i < 70; ++i) a[i] = 1;  // only A
  PairedStats s = paired_stats(a, b);
  EXPECT_NEAR(s.p_value, ref_mcnemar(10, 60), 1e-15);
  EXPECT_LT(s.p_value, 1e-8);
  EXPECT_GT(s.ci_low, 0);
  EXPECT_NE(describe(s, true).find("n=200: B is 25.0 points higher than A (95% CI +"),
            std::string::npos)
      << describe(s, true);
}

TEST(PairedStats, ClustersUseTheClusterRobustError) {
  // Each of G = 12 problems repeated k = 4 times with identical outcomes: the clustered SE
  // must equal the plain SE over the 12 problems (closed form), not the 48 draws.
  std::vector<double> a, b;
  std::vector<int64_t> cl;
  std::vector<double> per_problem_d;
  for (int g = 0; g < 12; ++g) {
    double x = g % 3 == 0 ? 1 : 0, y = g % 2 == 0 ? 1 : 0;
    per_problem_d.push_back(y - x);
    for (int r = 0; r < 4; ++r) {
      a.push_back(x);
      b.push_back(y);
      cl.push_back(100 + g);
    }
  }
  PairedStats s = paired_stats(a, b, cl);
  EXPECT_EQ(s.method, "clustered-t");
  EXPECT_EQ(s.units, 12);
  EXPECT_EQ(s.n, 48);
  double m = 0;
  for (double d : per_problem_d) m += d;
  m /= 12;
  double v = 0;
  for (double d : per_problem_d) v += (d - m) * (d - m);
  double se_problems = std::sqrt(v / 11 / 12);
  EXPECT_NEAR(s.se, se_problems, 1e-12);
  EXPECT_GT(s.se, s.se_iid * 1.5);  // ignoring the clusters would understate the error
  double t = s.diff / s.se;
  EXPECT_NEAR(s.p_value, student_t_two_sided_p(t, 11), 1e-12);
  EXPECT_NEAR(s.ci_high - s.diff, student_t_quantile(0.975, 11) * s.se, 1e-9);

  // Unequal clusters and continuous values, against the reference written above.
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> x, y, d;
  std::vector<int64_t> g;
  for (int c = 0; c < 9; ++c)
    for (int i = 0; i <= c; ++i) {
      double base = noise(rng);
      x.push_back(base);
      y.push_back(base + 0.3 + 0.5 * noise(rng) + 0.2 * c);
      d.push_back(y.back() - x.back());
      g.push_back(c);
    }
  PairedStats u = paired_stats(x, y, g);
  EXPECT_NEAR(u.se, ref_cluster_se(d, g), 1e-12);
}

TEST(PairedStats, OtherMetricsUseThePairedBootstrap) {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> a, b;
  for (int i = 0; i < 400; ++i) {
    double base = 10 + noise(rng);
    a.push_back(base);
    b.push_back(base + 0.05 + noise(rng));
  }
  PairedStats s = paired_stats(a, b, {}, 20000, 99);
  EXPECT_EQ(s.method, "bootstrap");
  EXPECT_FALSE(s.binary);
  // The bootstrap SE of a mean converges to sd(d) * sqrt((n-1)/n) / sqrt(n).
  EXPECT_NEAR(s.se, s.se_iid * std::sqrt(399.0 / 400), 0.05 * s.se_iid);
  EXPECT_NEAR(s.ci_low, s.diff - 1.96 * s.se_iid, 0.1 * s.se_iid);
  EXPECT_NEAR(s.ci_high, s.diff + 1.96 * s.se_iid, 0.1 * s.se_iid);
  // p agrees with the normal approximation of the same test.
  double z = std::fabs(s.diff / s.se_iid);
  EXPECT_NEAR(s.p_value, std::erfc(z / std::sqrt(2.0)), 0.03);
  // Fixed seed: the same answer every time.
  PairedStats again = paired_stats(a, b, {}, 20000, 99);
  EXPECT_EQ(again.ci_low, s.ci_low);
  EXPECT_EQ(again.p_value, s.p_value);

  // A large shift is significant.
  for (auto& v : b) v += 1.0;
  PairedStats big = paired_stats(a, b, {}, 2000, 99);
  EXPECT_LT(big.p_value, 0.001);
  EXPECT_GT(big.ci_low, 0.5);
}

TEST(PairedStats, AgreementOnEveryDocIsBoundedByTheRuleOfThree) {
  std::vector<double> a(40, 1.0);
  a[3] = 0;
  PairedStats s = paired_stats(a, a);
  EXPECT_EQ(s.p_value, 1.0);
  EXPECT_EQ(describe(s, true),
            "n=40: both runs gave the same verdict on every doc; differences up to ±7.5 points "
            "could still go unseen at this size (rule of three).");
  // A big sample bounds it under one point: still a number, not "0.0".
  std::vector<double> many(20000, 1.0);
  many[7] = 0;
  EXPECT_EQ(describe(paired_stats(many, many), true),
            "n=20000: both runs gave the same verdict on every doc; differences up to ±0.015 "
            "points could still go unseen at this size (rule of three).");
}

TEST(PairedStats, RejectsMismatchedInput) {
  EXPECT_THROW(paired_stats({1, 0}, {1}), std::invalid_argument);
  EXPECT_THROW(paired_stats({}, {}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------

StoredTask task_with(const std::string& name, const std::vector<int>& correct,
                     const std::string& prompt_prefix = "p") {
  StoredTask t;
  t.name = name;
  t.eval_version = "v1";
  t.metrics.push_back(StoredMetric{"acc", "none", 0, std::nullopt, 0, true});
  for (size_t i = 0; i < correct.size(); ++i) {
    StoredSample s;
    s.doc_id = static_cast<int64_t>(i);
    s.prompt_hash = prompt_prefix + std::to_string(i);
    s.metrics = Json{{"acc", correct[i]}};
    t.samples.push_back(s);
  }
  return t;
}

TEST(CompareRuns, PairsSharedDocsAndRefusesDifferentPrompts) {
  StoredRun a, b;
  a.tasks.push_back(task_with("t1", {1, 0, 1, 0, 1}));
  b.tasks.push_back(task_with("t1", {1, 1, 1, 1}));  // one doc fewer
  a.tasks.push_back(task_with("t2", {1, 1, 1}));
  StoredTask changed = task_with("t2", {1, 1, 1});
  changed.samples[2].prompt_hash = "other";
  b.tasks.push_back(changed);
  a.tasks.push_back(task_with("t3", {1}));
  auto cmp = compare_runs(a, b, {});
  ASSERT_EQ(cmp.size(), 2u);  // t3 is only in A: not listed unless asked for
  EXPECT_FALSE(cmp[0].refused) << cmp[0].reason;
  EXPECT_EQ(cmp[0].shared, 4);
  EXPECT_EQ(cmp[0].only_a, 1);
  ASSERT_EQ(cmp[0].metrics.size(), 1u);
  EXPECT_EQ(cmp[0].metrics[0].stats.n, 4);
  EXPECT_DOUBLE_EQ(cmp[0].metrics[0].stats.diff, 0.5);
  EXPECT_TRUE(cmp[1].refused);
  EXPECT_NE(cmp[1].reason.find("prompts differ on 1 of 3 shared docs (first: doc 2)"),
            std::string::npos)
      << cmp[1].reason;

  CompareOptions only;
  only.tasks = {"t3"};
  auto c3 = compare_runs(a, b, only);
  ASSERT_EQ(c3.size(), 1u);
  EXPECT_TRUE(c3[0].refused);
  EXPECT_EQ(c3[0].reason, "not in run B");
}

TEST(CompareRuns, GroupsPoolTheirSubtasksClusteredBySubtask) {
  StoredRun a, b;
  for (int k = 0; k < 4; ++k) {
    std::vector<int> xa(10), xb(10);
    for (int i = 0; i < 10; ++i) {
      xa[i] = (i + k) % 3 == 0;
      xb[i] = (i + k) % 2 == 0;
    }
    a.tasks.push_back(task_with("sub" + std::to_string(k), xa));
    b.tasks.push_back(task_with("sub" + std::to_string(k), xb));
  }
  for (StoredRun* r : {&a, &b}) {
    StoredTask g;
    g.name = "grp";
    g.kind = "group";
    g.subtasks = {"sub0", "sub1", "sub2", "sub3"};
    g.metrics.push_back(StoredMetric{"acc", "none", 0, std::nullopt, 0, true});
    r->tasks.push_back(g);
  }
  b.tasks[1].eval_version = "v2";
  CompareOptions o;
  o.tasks = {"grp", "sub1"};
  auto cmp = compare_runs(a, b, o);
  ASSERT_EQ(cmp.size(), 2u);
  ASSERT_FALSE(cmp[0].refused) << cmp[0].reason;
  const PairedStats& s = cmp[0].metrics[0].stats;
  EXPECT_EQ(s.n, 40);
  EXPECT_EQ(s.units, 4);
  EXPECT_EQ(s.method, "clustered-t");
  // The default list is the top level only: the group, not its subtasks.
  auto all = compare_runs(a, b, {});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].task, "grp");
  // sub1's evaluation version differs: said, not refused.
  ASSERT_EQ(cmp[1].notes.size(), 1u);
  EXPECT_NE(cmp[1].notes[0].find("evaluation versions differ (A v1, B v2)"), std::string::npos);
  EXPECT_FALSE(cmp[1].refused);
}

TEST(CompareRuns, RepeatsClusterByDocAndMissingSamplesAreRefused) {
  StoredRun a, b;
  StoredTask ta = task_with("rep", {0, 0, 0}), tb = task_with("rep", {0, 0, 0});
  for (int i = 0; i < 3; ++i) {
    ta.samples[i].metrics = Json{{"acc", Json::array({1, 0, i % 2})}};
    tb.samples[i].metrics = Json{{"acc", Json::array({1, 1, 1})}};
  }
  a.tasks.push_back(ta);
  b.tasks.push_back(tb);
  StoredTask empty_a = task_with("nos", {}), full_b = task_with("nos", {1});
  a.tasks.push_back(empty_a);
  b.tasks.push_back(full_b);
  auto cmp = compare_runs(a, b, {});
  ASSERT_EQ(cmp.size(), 2u);
  EXPECT_EQ(cmp[0].metrics[0].stats.n, 9);
  EXPECT_EQ(cmp[0].metrics[0].stats.units, 3);
  EXPECT_TRUE(cmp[1].refused);
  EXPECT_NE(cmp[1].reason.find("run A has no per-doc samples"), std::string::npos);
}

}  // namespace
}  // namespace retort::store
