#include "scoring/stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>

namespace retort::scoring {

double py_sum(const double* xs, size_t n) {
  double sum = 0.0, c = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double x = xs[i];
    const double t = sum + x;
    if (std::fabs(sum) >= std::fabs(x)) {
      c += (sum - t) + x;
    } else {
      c += (x - t) + sum;
    }
    sum = t;
  }
  if (c != 0.0 && std::isfinite(c)) sum += c;
  return sum;
}

double py_mean(const std::vector<double>& xs) {
  return py_sum(xs) / static_cast<double>(xs.size());
}

double numpy_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    size_t i;
    for (i = 8; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

double sample_stddev(const std::vector<double>& xs) {
  const double mu = py_mean(xs);
  std::vector<double> sq(xs.size());
  for (size_t i = 0; i < xs.size(); i++) sq[i] = (xs[i] - mu) * (xs[i] - mu);
  return std::sqrt(py_sum(sq) / static_cast<double>(xs.size() - 1));
}

double mean_stderr(const std::vector<double>& xs) {
  return sample_stddev(xs) / std::sqrt(static_cast<double>(xs.size()));
}

double bootstrap_stderr(size_t n, int64_t iters,
                        const std::function<double(const std::vector<int64_t>&)>& statistic) {
  const int64_t chunk = std::min<int64_t>(1000, iters);
  const int64_t chunks = iters / chunk;
  std::vector<std::vector<double>> results(static_cast<size_t>(chunks));
  auto run_chunk = [&](int64_t i) {
    PyRandom rnd(i);
    std::vector<int64_t> idx(n);
    auto& out = results[static_cast<size_t>(i)];
    out.reserve(static_cast<size_t>(chunk));
    for (int64_t r = 0; r < chunk; r++) {
      rnd.fill_choices(static_cast<int64_t>(n), idx.data(), n);
      out.push_back(statistic(idx));
    }
  };
  const int64_t threads =
      std::max<int64_t>(1, std::min<int64_t>(chunks, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (int64_t i = 0; i < chunks; i++) run_chunk(i);
  } else {
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < threads; t++) {
      pool.emplace_back([&, t] {
        for (int64_t i = t; i < chunks; i += threads) run_chunk(i);
      });
    }
    for (auto& th : pool) th.join();
  }
  std::vector<double> all;
  all.reserve(static_cast<size_t>(chunks * chunk));
  for (const auto& r : results) all.insert(all.end(), r.begin(), r.end());
  return sample_stddev(all);
}

double f1_binary(const std::vector<int64_t>& golds, const std::vector<int64_t>& preds) {
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < golds.size(); i++) {
    const bool g = golds[i] == 1, p = preds[i] == 1;
    if (g && p) tp++;
    if (!g && p) fp++;
    if (g && !p) fn++;
  }
  return f1_from_counts(tp, fp, fn);
}

double f1_from_counts(double tp, double fp, double fn) {
  const double denom = 2 * tp + fp + fn;
  return denom == 0 ? 0.0 : 2 * tp / denom;
}

double mcc_from_counts(const std::vector<double>& t_sum, const std::vector<double>& p_sum,
                       double correct, double n) {
  double tp = 0, tt = 0, pp = 0;
  for (size_t i = 0; i < t_sum.size(); i++) {
    tp += t_sum[i] * p_sum[i];
    tt += t_sum[i] * t_sum[i];
    pp += p_sum[i] * p_sum[i];
  }
  const double cov_ytyp = correct * n - tp;
  const double cov_ypyp = n * n - pp;
  const double cov_ytyt = n * n - tt;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

double matthews_corrcoef(const std::vector<int64_t>& golds, const std::vector<int64_t>& preds) {
  std::map<int64_t, double> t_sum, p_sum;
  double correct = 0;
  for (size_t i = 0; i < golds.size(); i++) {
    t_sum[golds[i]] += 1;
    p_sum[preds[i]] += 1;
    if (golds[i] == preds[i]) correct++;
  }
  const double n = static_cast<double>(golds.size());
  double tp = 0, tt = 0, pp = 0;
  for (const auto& [label, t] : t_sum) {
    tt += t * t;
    auto it = p_sum.find(label);
    if (it != p_sum.end()) tp += t * it->second;
  }
  for (const auto& [label, p] : p_sum) pp += p * p;
  const double cov_ytyp = correct * n - tp;
  const double cov_ypyp = n * n - pp;
  const double cov_ytyt = n * n - tt;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

}  // namespace retort::scoring
