// Internal numerics of scoring, each reproducing the Python/numpy/sklearn routine lm-eval
// calls, including its summation order (results must agree to the last bit where the
// reference does).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "util/py_random.h"

namespace retort::scoring {

// Python's built-in sum() over floats. CPython >= 3.12 compensates (Neumaier); we follow
// it, so results equal 3.12+ exactly and 3.11 to within rounding of the last bits.
double py_sum(const double* xs, size_t n);
inline double py_sum(const std::vector<double>& xs) {
  return py_sum(xs.data(), xs.size());
}
// lm-eval's mean(): sum(arr) / len(arr).
double py_mean(const std::vector<double>& xs);
// numpy's add.reduce over a contiguous float64 array (pairwise summation, 8-way unrolled).
double numpy_sum(const double* xs, size_t n);

// lm-eval's sample_stddev (n-1 denominator) and mean_stderr (sample_stddev / sqrt(n)).
double sample_stddev(const std::vector<double>& xs);
double mean_stderr(const std::vector<double>& xs);

// lm-eval's bootstrap_stderr: iters // chunk chunks of chunk = min(1000, iters)
// replicates; chunk i draws with PyRandom(i); a replicate evaluates statistic on n indices
// drawn as choices(range(n), k=n); the result is sample_stddev of the replicates in chunk
// order. Chunks run in parallel threads; the result does not depend on the thread count.
// statistic must be safe to call concurrently.
double bootstrap_stderr(size_t n, int64_t iters,
                        const std::function<double(const std::vector<int64_t>&)>& statistic);

// sklearn f1_score(y_true, y_pred) with average="binary", pos_label=1 over integer labels;
// 0.0 when there are no positive predictions and no positive golds (zero_division).
double f1_binary(const std::vector<int64_t>& golds, const std::vector<int64_t>& preds);
// sklearn matthews_corrcoef over integer labels (multi-class formula); 0.0 when undefined.
double matthews_corrcoef(const std::vector<int64_t>& golds, const std::vector<int64_t>& preds);
// The same from counts: 2tp/(2tp+fp+fn), and sklearn's covariance form over per-label
// true counts t_sum and predicted counts p_sum (dense label ids).
double f1_from_counts(double tp, double fp, double fn);
double mcc_from_counts(const std::vector<double>& t_sum, const std::vector<double>& p_sum,
                       double correct, double n);

}  // namespace retort::scoring
