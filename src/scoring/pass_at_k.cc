#include "scoring/pass_at_k.h"

#include <stdexcept>
#include <unordered_map>

namespace retort {

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (k < 1 || k > n || c < 0 || c > n)
    throw std::invalid_argument("pass_at_k: need 1 <= k <= n, 0 <= c <= n");
  if (n - c < k) return 1.0;
  // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
  double fail = 1.0;
  for (int64_t i = n - c + 1; i <= n; ++i)
    fail *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - fail;
}

std::optional<double> mean_pass_at_k(const std::vector<std::pair<int64_t, int64_t>>& n_c,
                                     int64_t k) {
  double sum = 0;
  int64_t used = 0;
  for (const auto& [n, c] : n_c) {
    if (n < k) continue;
    sum += pass_at_k(n, c, k);
    ++used;
  }
  if (used == 0) return std::nullopt;
  return sum / static_cast<double>(used);
}

std::string majority_answer(const std::vector<std::string>& answers) {
  // Counter.most_common(1): the highest count, ties to the answer first inserted.
  std::unordered_map<std::string, int64_t> counts;
  std::vector<const std::string*> order;
  for (const auto& a : answers) {
    if (a.empty()) continue;
    if (counts[a]++ == 0) order.push_back(&a);
  }
  const std::string* best = nullptr;
  int64_t best_count = 0;
  for (const std::string* a : order) {
    int64_t n = counts[*a];
    if (n > best_count) {
      best = a;
      best_count = n;
    }
  }
  return best ? *best : std::string();
}

}  // namespace retort
