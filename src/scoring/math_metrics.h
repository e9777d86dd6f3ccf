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

// What the samples log shows for each reply of a math_answer pipeline, in order: an object
// {"rule", "extracted", "gold_normalized", "pred_normalized", "verdict", "no_answer"} where
// rule is the extraction rule (math_equiv.h rule_name; "none" when the final text holds no
// answer), verdict is "equal", "not_equal" or "unparseable".
// cut_off (one per reply, or empty): the replies that stopped at the token limit.
Json math_answer_details(const std::vector<std::string>& replies, const Json& gold,
                         const std::vector<bool>& cut_off = {});

// Evalchemy's result keys for a math task (evalchemy eval/chat_benchmarks/AIME24/
// eval_instruct.py L127-156; MATH500/eval_instruct.py L109-128), from the per-doc
// math_equiv values (one 0/1 per repeat). With repeats (AIME24/AIME25/AMC23):
// num_total, solved_avg, run_stats [{repetition, num_total, num_solved, accuracy}],
// accuracy_avg, accuracy_std_err (population std of the per-repeat accuracies / sqrt(n)),
// num_repeat. Single (MATH500): num_total, num_solved, accuracy. Docs with fewer answers
// than the others count only their first ones.
Json evalchemy_math_results(const std::vector<Json>& per_doc_math_equiv, bool single);

}  // namespace retort
