#include "store/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

namespace retort::store {

namespace {

// Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz), the
// standard route for Student t tail probabilities.
double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < eps) break;
  }
  return h;
}

double inc_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(lbt) * beta_cf(a, b, x) / a;
  return 1 - std::exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace

double student_t_two_sided_p(double t, double df) {
  if (!std::isfinite(t)) return 0.0;
  if (df <= 0) return 1.0;
  return inc_beta(df / 2, 0.5, df / (df + t * t));
}

double student_t_quantile(double p, double df) {
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  double target = 2 * (1 - p);  // two-sided tail
  double lo = 0, hi = 1;
  while (student_t_two_sided_p(hi, df) > target && hi < 1e12) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    if (student_t_two_sided_p(mid, df) > target)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

double mcnemar_exact_p(int64_t b, int64_t c) {
  int64_t n = b + c;
  if (n == 0) return 1.0;
  int64_t k = std::min(b, c);
  // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space.
  double log_half_n = static_cast<double>(n) * std::log(0.5);
  double sum = 0;
  for (int64_t i = 0; i <= k; ++i) {
    double lc = std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
                std::lgamma(static_cast<double>(n - i) + 1);
    sum += std::exp(lc + log_half_n);
  }
  return std::min(1.0, 2 * sum);
}

PairedStats paired_stats(const std::vector<double>& a, const std::vector<double>& b,
                         const std::vector<int64_t>& cluster, int bootstrap_iters, uint64_t seed) {
  if (a.size() != b.size() || a.empty())
    throw std::invalid_argument("paired_stats: a and b must be non-empty and of equal length");
  if (!cluster.empty() && cluster.size() != a.size())
    throw std::invalid_argument("paired_stats: one cluster id per pair");
  PairedStats s;
  const size_t n = a.size();
  s.n = static_cast<int64_t>(n);
  std::vector<double> d(n);
  s.binary = true;
  for (size_t i = 0; i < n; ++i) {
    d[i] = b[i] - a[i];
    for (double x : {a[i], b[i]})
      if (x != 0.0 && x != 1.0) s.binary = false;
    if (a[i] == 1.0 && b[i] == 0.0) ++s.a_only;
    if (a[i] == 0.0 && b[i] == 1.0) ++s.b_only;
  }
  s.mean_a = mean_of(a);
  s.mean_b = mean_of(b);
  s.diff = mean_of(d);
  double ss = 0;
  for (double x : d) ss += (x - s.diff) * (x - s.diff);
  s.se_iid = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n)) : 0.0;

  // Units: clusters in first-seen order, with the indices of their pairs. Without cluster
  // ids each pair is its own unit, and no list of them is made (one small vector per pair
  // was 6% of `retort compare` at 20,000 docs).
  std::vector<std::vector<size_t>> units;
  if (!cluster.empty()) {
    std::map<int64_t, size_t> index;
    for (size_t i = 0; i < n; ++i) {
      auto [it, fresh] = index.try_emplace(cluster[i], units.size());
      if (fresh) units.emplace_back();
      units[it->second].push_back(i);
    }
  }
  const size_t G = cluster.empty() ? n : units.size();
  s.units = static_cast<int64_t>(G);
  const bool clustered = G < n;

  if (s.binary && !clustered) {
    s.method = "mcnemar";
    s.se = s.se_iid;
    double t = n > 1 ? student_t_quantile(0.975, static_cast<double>(n - 1)) : 0.0;
    s.ci_low = s.diff - t * s.se;
    s.ci_high = s.diff + t * s.se;
    s.p_value = mcnemar_exact_p(s.a_only, s.b_only);
    return s;
  }
  if (clustered) {
    s.method = "clustered-t";
    double sum_sq = 0;
    for (const auto& u : units) {
      double g = 0;
      for (size_t i : u) g += d[i] - s.diff;
      sum_sq += g * g;
    }
    s.se = G > 1 ? std::sqrt(static_cast<double>(G) / static_cast<double>(G - 1) * sum_sq) /
                       static_cast<double>(n)
                 : 0.0;
    double df = static_cast<double>(G) - 1;
    double t = G > 1 ? student_t_quantile(0.975, df) : 0.0;
    s.ci_low = s.diff - t * s.se;
    s.ci_high = s.diff + t * s.se;
    s.p_value = s.se > 0 ? student_t_two_sided_p(s.diff / s.se, df) : (s.diff == 0 ? 1.0 : 0.0);
    return s;
  }
  s.method = "bootstrap";
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, G - 1);
  std::vector<double> means(static_cast<size_t>(std::max(bootstrap_iters, 1)));
  for (auto& m : means) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) sum += d[pick(rng)];
    m = sum / static_cast<double>(n);
  }
  double mm = mean_of(means), var = 0;
  int64_t extreme = 0;
  for (double m : means) {
    var += (m - mm) * (m - mm);
    if (std::fabs(m - s.diff) >= std::fabs(s.diff)) ++extreme;
  }
  s.se = means.size() > 1 ? std::sqrt(var / static_cast<double>(means.size() - 1)) : 0.0;
  std::sort(means.begin(), means.end());
  auto at = [&](double q) {
    double pos = q * static_cast<double>(means.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, means.size() - 1);
    return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
  };
  s.ci_low = at(0.025);
  s.ci_high = at(0.975);
  s.p_value = static_cast<double>(1 + extreme) / static_cast<double>(means.size() + 1);
  if (s.diff == 0.0) s.p_value = 1.0;
  return s;
}

std::string describe(const PairedStats& s, bool proportion) {
  const double k = proportion ? 100.0 : 1.0;
  const char* unit = proportion ? " points" : "";
  double half = (s.ci_high - s.ci_low) / 2 * k;
  std::string n =
      s.units < s.n ? fmt::format("n={} in {} clusters", s.n, s.units) : fmt::format("n={}", s.n);
  if (s.se == 0.0 && s.diff == 0.0) {
    if (!s.binary) return n + ": the runs scored every doc the same.";
    // No discordant pair: by the rule of three, up to 3/n of the docs could still differ
    // (95% upper bound), which bounds the differences this sample cannot see.
    // Under 1 point, two significant digits: one decimal would print 0.015 as "0.0".
    const double bound = std::min(100.0, 300.0 / static_cast<double>(s.units));
    return fmt::format(
        "{}: both runs gave the same verdict on every doc; differences up to ±{} points "
        "could still go unseen at this size (rule of three).",
        n, bound >= 1.0 ? fmt::format("{:.1f}", bound) : fmt::format("{:.2g}", bound));
  }
  bool significant = s.p_value < 0.05 && (s.ci_low > 0 || s.ci_high < 0);
  if (significant)
    return fmt::format(
        "{}: B is {:.1f}{} {} than A (95% CI {:+.1f} to {:+.1f}, p={:.2g}); a difference "
        "this large is unlikely to be noise.",
        n, std::fabs(s.diff) * k, unit, s.diff > 0 ? "higher" : "lower", s.ci_low * k,
        s.ci_high * k, s.p_value);
  return fmt::format(
      "{}: differences under ±{:.1f}{} are noise; this one ({:+.1f}) does not tell the runs "
      "apart (p={:.2g}).",
      n, half, unit, s.diff * k, s.p_value);
}

namespace {

// Per-doc numbers of one metric: a number (or bool) is one value; a list (one per repeat)
// is several values of one unit.
bool doc_values(const Json& v, std::vector<double>& out) {
  out.clear();
  if (v.is_number()) {
    out.push_back(v.get<double>());
  } else if (v.is_boolean()) {
    out.push_back(v.get<bool>() ? 1.0 : 0.0);
  } else if (v.is_array() && !v.empty()) {
    for (const auto& x : v) {
      if (x.is_number())
        out.push_back(x.get<double>());
      else if (x.is_boolean())
        out.push_back(x.get<bool>() ? 1.0 : 0.0);
      else
        return false;
    }
  } else {
    return false;
  }
  return true;
}

struct Pairs {
  std::vector<double> a, b;
  std::vector<int64_t> cluster;
  bool repeats = false;
};

// Pairs of one (metric, filter) of one task; cluster ids start at cluster_base.
// Returns false (with why) when the metric has no per-doc numbers.
bool collect_pairs(const StoredTask& ta, const StoredTask& tb, const std::string& metric,
                   const std::string& filter, int64_t cluster_base, bool cluster_by_task,
                   Pairs& out, std::string& why) {
  std::map<int64_t, const StoredSample*> in_b;
  for (const auto& s : tb.samples)
    if (s.filter == filter) in_b[s.doc_id] = &s;
  std::vector<double> va, vb;
  bool any = false;
  for (const auto& sa : ta.samples) {
    if (sa.filter != filter || sa.failed) continue;
    auto it = in_b.find(sa.doc_id);
    if (it == in_b.end() || it->second->failed) continue;
    const StoredSample& sb = *it->second;
    if (!sa.metrics.contains(metric) || !sb.metrics.contains(metric)) continue;
    if (!doc_values(sa.metrics[metric], va) || !doc_values(sb.metrics[metric], vb)) {
      why = "metric " + metric + " has no per-doc number (a corpus-level metric)";
      return false;
    }
    any = true;
    int64_t cl = cluster_by_task ? cluster_base : cluster_base + sa.doc_id;
    if (va.size() == vb.size()) {
      for (size_t i = 0; i < va.size(); ++i) {
        out.a.push_back(va[i]);
        out.b.push_back(vb[i]);
        out.cluster.push_back(cl);
      }
      if (va.size() > 1) out.repeats = true;
    } else {  // different repeat counts: compare the doc means
      out.a.push_back(mean_of(va));
      out.b.push_back(mean_of(vb));
      out.cluster.push_back(cl);
    }
  }
  if (!any) {
    why = "no doc has metric " + metric + " (" + filter + ") in both runs";
    return false;
  }
  return true;
}

// Doc bookkeeping and the prompt check for one task. Empty string = comparable.
std::string check_task(const StoredTask& ta, const StoredTask& tb, TaskComparison& tc) {
  if (ta.samples.empty() || tb.samples.empty())
    return std::string("run ") + (ta.samples.empty() ? "A" : "B") +
           " has no per-doc samples for this task (a results file needs its samples files, "
           "written with --log_samples)";
  std::map<int64_t, const StoredSample*> da, db;
  for (const auto& s : ta.samples) da.emplace(s.doc_id, &s);
  for (const auto& s : tb.samples) db.emplace(s.doc_id, &s);
  int64_t differ = 0, missing_hash = 0;
  int64_t first_differ = -1;
  for (const auto& [id, sa] : da) {
    auto it = db.find(id);
    if (it == db.end()) {
      ++tc.only_a;
      continue;
    }
    ++tc.shared;
    if (sa->prompt_hash.empty() || it->second->prompt_hash.empty()) {
      ++missing_hash;
    } else if (sa->prompt_hash != it->second->prompt_hash) {
      if (first_differ < 0) first_differ = id;
      ++differ;
    }
  }
  for (const auto& [id, sb] : db)
    if (!da.count(id)) ++tc.only_b;
  if (tc.shared == 0) return "the runs share no doc (different --limit or data?)";
  if (differ > 0)
    return fmt::format(
        "prompts differ on {} of {} shared docs (first: doc {}): the runs asked different "
        "questions (few-shot, template, chat or system settings), so their scores do not pair",
        differ, tc.shared, first_differ);
  if (missing_hash > 0)
    return fmt::format("{} shared docs have no prompt hash, so the prompts cannot be checked",
                       missing_hash);
  return "";
}

bool in_unit_interval(const Pairs& p) {
  for (const auto* v : {&p.a, &p.b})
    for (double x : *v)
      if (x < 0.0 || x > 1.0) return false;
  return true;
}

void leaves_of(const StoredRun& run, const StoredTask& t, std::vector<const StoredTask*>& out,
               int depth = 0) {
  if (depth > 16) return;
  for (const auto& c : t.subtasks) {
    const StoredTask* ct = run.task(c);
    if (!ct) continue;
    if (ct->kind == "group")
      leaves_of(run, *ct, out, depth + 1);
    else if (std::find(out.begin(), out.end(), ct) == out.end())
      out.push_back(ct);
  }
}

}  // namespace

std::vector<TaskComparison> compare_runs(const StoredRun& a, const StoredRun& b,
                                         const CompareOptions& o) {
  std::vector<std::string> names = o.tasks;
  if (names.empty()) {
    std::set<std::string> nested;
    for (const auto& t : a.tasks)
      for (const auto& c : t.subtasks) nested.insert(c);
    for (const auto& t : a.tasks)
      if (b.task(t.name) && !nested.count(t.name)) names.push_back(t.name);
  }
  std::vector<TaskComparison> out;
  for (const auto& name : names) {
    TaskComparison tc;
    tc.task = name;
    const StoredTask* ta = a.task(name);
    const StoredTask* tb = b.task(name);
    if (!ta || !tb) {
      tc.refused = true;
      tc.reason = std::string("not in run ") + (!ta ? "A" : "B");
      if (!ta && !tb) tc.reason = "in neither run";
      out.push_back(std::move(tc));
      continue;
    }
    tc.kind = ta->kind;
    if (!ta->eval_version.empty() && !tb->eval_version.empty() &&
        ta->eval_version != tb->eval_version)
      tc.notes.push_back("evaluation versions differ (A " + ta->eval_version + ", B " +
                         tb->eval_version + "): the task's config or the scorer changed");
    // Leaves: the task itself, or a group's tasks (pooled, clustered by subtask).
    std::vector<const StoredTask*> leaves_a;
    if (ta->kind == "group")
      leaves_of(a, *ta, leaves_a);
    else
      leaves_a.push_back(ta);
    std::vector<std::pair<const StoredTask*, const StoredTask*>> leaves;
    for (const StoredTask* la : leaves_a) {
      const StoredTask* lb = b.task(la->name);
      if (!lb) {
        tc.refused = true;
        tc.reason = "subtask " + la->name + " is not in run B";
        break;
      }
      TaskComparison sub;
      std::string why = check_task(*la, *lb, sub);
      tc.shared += sub.shared;
      tc.only_a += sub.only_a;
      tc.only_b += sub.only_b;
      if (!why.empty()) {
        tc.refused = true;
        tc.reason = ta->kind == "group" ? "subtask " + la->name + ": " + why : why;
        break;
      }
      leaves.emplace_back(la, lb);
    }
    if (!tc.refused && leaves.empty()) {
      tc.refused = true;
      tc.reason = "the group has no subtasks with samples";
    }
    if (tc.refused) {
      out.push_back(std::move(tc));
      continue;
    }
    std::string first_why;
    for (const StoredMetric& m : ta->metrics) {
      const StoredMetric* mb = nullptr;
      for (const auto& x : tb->metrics)
        if (x.metric == m.metric && x.filter == m.filter) mb = &x;
      if (!mb) continue;
      Pairs pairs;
      std::string why;
      bool ok = true;
      for (size_t li = 0; li < leaves.size() && ok; ++li)
        ok = collect_pairs(*leaves[li].first, *leaves[li].second, m.metric, m.filter,
                           ta->kind == "group" ? static_cast<int64_t>(li) : 0, ta->kind == "group",
                           pairs, why);
      if (!ok) {
        if (first_why.empty()) first_why = why;
        continue;
      }
      MetricComparison mc;
      mc.metric = m.metric;
      mc.filter = m.filter;
      mc.higher_is_better = m.higher_is_better;
      mc.proportion = in_unit_interval(pairs);
      bool clustered = ta->kind == "group" || pairs.repeats;
      mc.stats = paired_stats(pairs.a, pairs.b, clustered ? pairs.cluster : std::vector<int64_t>{},
                              o.bootstrap_iters);
      mc.sentence = describe(mc.stats, mc.proportion);
      tc.metrics.push_back(std::move(mc));
      if (!o.all_metrics) break;
    }
    if (tc.metrics.empty()) {
      tc.refused = true;
      tc.reason = first_why.empty() ? "the runs share no metric" : first_why;
    }
    out.push_back(std::move(tc));
  }
  return out;
}

}  // namespace retort::store
