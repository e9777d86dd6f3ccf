// Estimators over repeated samples of one problem, shared by the math and code tasks.
//
// pass@k: the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models
// Trained on Code", eq. 1), 1 - C(n-c, k) / C(n, k) for n samples of which c are correct,
// computed as a product so that large n neither overflows nor loses precision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace retort {

// n samples, c correct, k <= n. Returns 1 when n - c < k. Throws std::invalid_argument
// when k < 1, k > n, c < 0 or c > n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// Mean of pass_at_k over problems with (n_i, c_i). Problems with n_i < k are skipped (the
// estimator is undefined there); nullopt when none is left.
std::optional<double> mean_pass_at_k(const std::vector<std::pair<int64_t, int64_t>>& n_c,
                                     int64_t k);

// Majority vote over answers (empty strings = no answer, never a winner unless all are
// empty). Ties go to the answer seen first, as Python's Counter.most_common(1) does.
std::string majority_answer(const std::vector<std::string>& answers);

}  // namespace retort
