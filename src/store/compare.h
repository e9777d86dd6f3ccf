// Paired comparison of two runs: per task, the difference on the docs both runs asked with
// the same prompt (same doc id, same prompt hash), its standard error, a 95% interval and a
// p-value from the test that fits the metric, and one plain sentence on what the data can
// and cannot show. Used by `retort compare`, `retort gate` and the HTML report.
//
// The statistics (all about d = b - a per pair; "units" are independent clusters):
//  - 0/1 metrics without clusters: McNemar's exact test (two-sided binomial on the
//    discordant pairs) for p; the paired-t standard error sd(d)/sqrt(n) with a Student t
//    interval on n-1 degrees of freedom;
//  - clusters (repeats of one problem, subtasks of a group): the cluster-robust standard
//    error sqrt(G/(G-1)) * sqrt(sum_g (sum_{i in g} (d_i - mean d))^2) / n, with a t test
//    and interval on G-1 degrees of freedom;
//  - any other metric: the paired bootstrap (resampling units with replacement, fixed seed):
//    SE = sd of the resampled means, percentile interval, p = (1 + #{|d* - d| >= |d|}) /
//    (B + 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace retort::store {

struct PairedStats {
  std::string method;                       // "mcnemar", "clustered-t", "bootstrap"
  int64_t n = 0;                            // pairs
  int64_t units = 0;                        // independent units (clusters; = n without clusters)
  double mean_a = 0, mean_b = 0, diff = 0;  // diff = mean_b - mean_a
  double se = 0;      // standard error of diff (cluster-robust when clustered)
  double se_iid = 0;  // sd(d)/sqrt(n), ignoring clusters
  double ci_low = 0, ci_high = 0;
  double p_value = 1;
  bool binary = false;             // every value is 0 or 1
  int64_t a_only = 0, b_only = 0;  // 0/1: pairs only a got right / only b got right
};

// cluster: one id per pair (same id = same unit), or empty for independent pairs.
// Throws std::invalid_argument when a and b differ in length or are empty.
PairedStats paired_stats(const std::vector<double>& a, const std::vector<double>& b,
                         const std::vector<int64_t>& cluster = {}, int bootstrap_iters = 10000,
                         uint64_t seed = 1234);

// Distribution helpers (exposed for tests).
double student_t_two_sided_p(double t, double df);  // P(|T| >= |t|)
double student_t_quantile(double p, double df);     // x with P(T <= x) = p
double mcnemar_exact_p(int64_t b, int64_t c);       // two-sided, min(1, 2 P(X <= min))

struct MetricComparison {
  std::string metric, filter;
  bool higher_is_better = true;
  bool proportion = true;  // values lie in [0, 1]: shown in points (x100)
  PairedStats stats;
  std::string sentence;  // "n=30: differences under ±12.0 points are noise; ..."
};

struct TaskComparison {
  std::string task;
  std::string kind = "task";  // "group": pooled over subtasks, clustered by subtask
  bool refused = false;
  std::string reason;                          // why refused
  int64_t shared = 0, only_a = 0, only_b = 0;  // docs
  std::vector<std::string> notes;              // e.g. evaluation versions differ
  std::vector<MetricComparison> metrics;
};

struct CompareOptions {
  std::vector<std::string> tasks;  // empty = every task both runs have
  bool all_metrics = false;        // false = each task's primary (first) metric only
  int bootstrap_iters = 10000;
};

std::vector<TaskComparison> compare_runs(const StoredRun& a, const StoredRun& b,
                                         const CompareOptions& options);

// The plain sentence for one comparison.
std::string describe(const PairedStats& s, bool proportion);

}  // namespace retort::store
