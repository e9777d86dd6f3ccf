// Math metrics usable from a task's metric_list, over the answers of one doc (one per repeat,
// usually from the `math_answer` filter), against the doc's target:
//   math_equiv  per repeat, 1 when the answer is mathematically equal to the target
//               (math_equiv.h); aggregation "repeat_mean": the mean over docs and repeats,
//               with Evalchemy's standard error across repeats (population standard
//               deviation of the per-repeat accuracies / sqrt(repeats)) when there are
//               several, else the usual standard error of the mean over docs.
//   pass@K      the unbiased pass@k estimator (pass_at_k.h) from the n answers, c equal.
//   maj@K       1 when the most common answer among the first K (voting by normalised
//               form; no answer never wins) equals the target.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/run_result.h"
#include "util/json.h"

namespace retort {

struct MetricSpec;

// math_equiv, pass@K or maj@K (K a positive integer).
bool is_math_metric(const std::string& name);
// The per-doc value of a math metric: result is one answer or a list of answers.
Json score_math_metric(const std::string& name, const Json& result, const Json& gold);

// The "repeat_mean" aggregation of per-doc values (numbers, or lists with one 0/1 per
// repeat). Returns {value, stderr}.
std::pair<double, std::optional<double>> aggregate_repeat_mean(const std::vector<Json>& items,
                                                               const std::string& metric);

}  // namespace retort
