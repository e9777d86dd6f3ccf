// Aggregation of per-doc values into a task score and its standard error, and of task
// scores into group scores (lm-eval api/metrics.py, evaluator_utils.py, api/group.py).
// Values are converted from JSON once; the bootstrap works on plain arrays.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "scoring/bleu.h"
#include "scoring/math_metrics.h"
#include "scoring/reading_metrics.h"
#include "scoring/scoring.h"
#include "scoring/stats.h"
#include "util/error.h"
#include "util/pyvalue.h"

namespace retort {

namespace {

using scoring::bootstrap_stderr;

double to_double(const Json& v, const std::string& metric) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  throw Error(fmt::format("metric '{}': per-doc value {} is not a number", metric, py_repr(v)));
}

std::vector<double> numbers(const std::vector<Json>& items, const std::string& metric) {
  std::vector<double> xs;
  xs.reserve(items.size());
  for (const Json& v : items) xs.push_back(to_double(v, metric));
  return xs;
}

const Json& pair_at(const Json& v, size_t i, const std::string& metric) {
  if (!v.is_array() || v.size() != 2) {
    throw Error(fmt::format("metric '{}': per-doc value {} is not a pair", metric, py_repr(v)));
  }
  return v[i];
}

// Labels of (gold, pred) pairs as dense ids, in first-seen order, with each id's value.
struct Labels {
  std::vector<int64_t> golds, preds;
  std::vector<Json> values;
};

Labels dense_labels(const std::vector<Json>& items, const std::string& metric) {
  Labels out;
  auto id_of = [&](const Json& v) {
    // Python compares 1 == 1.0 == True; JSON numbers compare by value already.
    Json key = v.is_boolean() ? Json(v.get<bool>() ? 1 : 0) : v;
    for (size_t i = 0; i < out.values.size(); i++) {
      if (out.values[i] == key) return static_cast<int64_t>(i);
    }
    out.values.push_back(key);
    return static_cast<int64_t>(out.values.size() - 1);
  };
  for (const Json& it : items) {
    out.golds.push_back(id_of(pair_at(it, 0, metric)));
    out.preds.push_back(id_of(pair_at(it, 1, metric)));
  }
  return out;
}

double nanmean(const std::vector<double>& xs) {
  std::vector<double> z;
  z.reserve(xs.size());
  double count = 0;
  for (double x : xs) {
    if (std::isnan(x)) {
      z.push_back(0.0);
    } else {
      z.push_back(x);
      count++;
    }
  }
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  return scoring::numpy_sum(z.data(), z.size()) / count;
}

struct Outcome {
  double value = 0.0;
  std::optional<double> stderr_value;
};

Outcome aggregate_mean_like(const std::string& agg, const std::vector<double>& xs, int64_t iters) {
  Outcome o;
  const size_t n = xs.size();
  const bool can_err = iters > 0 && n > 1;
  if (agg == "mean") {
    o.value = scoring::py_mean(xs);
    if (can_err) o.stderr_value = scoring::mean_stderr(xs);
  } else if (agg == "median") {
    o.value = xs[n / 2];
    if (can_err) {
      o.stderr_value = bootstrap_stderr(n, iters, [&](const std::vector<int64_t>& idx) {
        return xs[static_cast<size_t>(idx[n / 2])];
      });
    }
  } else if (agg == "perplexity") {
    o.value = std::exp(-scoring::py_mean(xs));
    if (can_err) {
      o.stderr_value = bootstrap_stderr(n, iters, [&](const std::vector<int64_t>& idx) {
        thread_local std::vector<double> buf;
        buf.resize(n);
        for (size_t k = 0; k < n; k++) buf[k] = xs[static_cast<size_t>(idx[k])];
        return std::exp(-scoring::py_mean(buf));
      });
    }
  } else if (agg == "nanmean") {
    o.value = nanmean(xs);
    if (can_err) {
      o.stderr_value = bootstrap_stderr(n, iters, [&](const std::vector<int64_t>& idx) {
        thread_local std::vector<double> buf;
        buf.resize(n);
        for (size_t k = 0; k < n; k++) buf[k] = xs[static_cast<size_t>(idx[k])];
        return nanmean(buf);
      });
    }
  }
  return o;
}

Outcome aggregate_labels(const std::string& agg, const std::vector<Json>& items,
                         const std::string& metric, int64_t iters) {
  Labels L = dense_labels(items, metric);
  const size_t n = items.size();
  const size_t k = L.values.size();
  Outcome o;
  const bool can_err = iters > 0 && n > 1;
  if (agg == "f1") {
    // sklearn average="binary", pos_label=1.
    int64_t pos = -1;
    for (size_t i = 0; i < k; i++) {
      if (L.values[i].is_number() && L.values[i] == Json(1)) pos = static_cast<int64_t>(i);
    }
    if (k > 2) {
      throw Error(fmt::format("metric '{}': f1 is binary (as sklearn's f1_score default) but the "
                              "labels take {} values",
                              metric, k),
                  "", "use f1 only on yes/no (0/1) tasks, or use acc / mcc");
    }
    if (k == 2 && pos < 0) {
      throw Error(
          fmt::format("metric '{}': f1 needs the positive label 1 among the labels", metric));
    }
    auto stat = [&](auto&& at) {
      double tp = 0, fp = 0, fn = 0;
      for (size_t j = 0; j < n; j++) {
        const size_t i = at(j);
        const bool g = L.golds[i] == pos, p = L.preds[i] == pos;
        tp += g && p;
        fp += !g && p;
        fn += g && !p;
      }
      return scoring::f1_from_counts(tp, fp, fn);
    };
    o.value = stat([](size_t j) { return j; });
    if (can_err) {
      o.stderr_value = bootstrap_stderr(n, iters, [&](const std::vector<int64_t>& idx) {
        return stat([&](size_t j) { return static_cast<size_t>(idx[j]); });
      });
    }
  } else {  // matthews_corrcoef
    auto stat = [&](auto&& at) {
      thread_local std::vector<double> t_sum, p_sum;
      t_sum.assign(k, 0.0);
      p_sum.assign(k, 0.0);
      double correct = 0;
      for (size_t j = 0; j < n; j++) {
        const size_t i = at(j);
        t_sum[static_cast<size_t>(L.golds[i])] += 1;
        p_sum[static_cast<size_t>(L.preds[i])] += 1;
        correct += L.golds[i] == L.preds[i];
      }
      return scoring::mcc_from_counts(t_sum, p_sum, correct, static_cast<double>(n));
    };
    o.value = stat([](size_t j) { return j; });
    if (can_err) {
      o.stderr_value = bootstrap_stderr(n, iters, [&](const std::vector<int64_t>& idx) {
        return stat([&](size_t j) { return static_cast<size_t>(idx[j]); });
      });
    }
  }
  return o;
}

double brier(const std::vector<Json>& items, const std::string& metric) {
  // np.mean(np.sum((probs - one_hot(gold)) ** 2, axis=1))
  std::vector<double> rows;
  size_t num_class = 0;
  for (const Json& it : items) {
    const Json& gold = pair_at(it, 0, metric);
    const Json& probs = pair_at(it, 1, metric);
    if (!probs.is_array()) throw Error(fmt::format("metric '{}': bad probabilities", metric));
    if (rows.empty()) num_class = probs.size();
    if (probs.size() != num_class) {
      throw Error(
          fmt::format("metric '{}': docs have different numbers of choices ({} and {}); "
                      "brier_score needs the same number for every doc",
                      metric, num_class, probs.size()));
    }
    if (!gold.is_number_integer()) {
      throw Error(fmt::format("metric '{}': brier_score needs a single integer gold, got {}",
                              metric, py_repr(gold)));
    }
    int64_t g = gold.get<int64_t>();
    if (g < 0) g += static_cast<int64_t>(num_class);
    if (g < 0 || g >= static_cast<int64_t>(num_class)) {
      throw Error(fmt::format("metric '{}': gold {} is out of range for {} choices", metric,
                              gold.get<int64_t>(), num_class));
    }
    std::vector<double> sq(num_class);
    for (size_t c = 0; c < num_class; c++) {
      const double d = probs[c].get<double>() - (static_cast<int64_t>(c) == g ? 1.0 : 0.0);
      sq[c] = d * d;
    }
    rows.push_back(scoring::numpy_sum(sq.data(), sq.size()));
  }
  return scoring::numpy_sum(rows.data(), rows.size()) / static_cast<double>(rows.size());
}

Outcome aggregate_sacrebleu(const std::string& agg, const std::vector<Json>& items,
                            const std::string& metric, int64_t iters) {
  // lm-eval's _sacreformat: refs become reference streams (zip(*refs), so the number of
  // streams is the smallest number of references of any doc); a list prediction must hold
  // exactly one string.
  std::vector<std::vector<std::string>> refs;
  std::vector<std::string> preds;
  size_t streams = std::numeric_limits<size_t>::max();
  for (const Json& it : items) {
    const Json& gold = pair_at(it, 0, metric);
    const Json& pred = pair_at(it, 1, metric);
    std::vector<std::string> r;
    if (gold.is_array()) {
      for (const Json& g : gold) r.push_back(g.is_string() ? g.get<std::string>() : py_str(g));
    } else {
      r.push_back(gold.is_string() ? gold.get<std::string>() : py_str(gold));
    }
    streams = std::min(streams, r.size());
    refs.push_back(std::move(r));
    if (pred.is_array()) {
      if (pred.size() != 1 || !pred[0].is_string()) {
        throw Error(fmt::format("metric '{}': a prediction must be one string, got {}", metric,
                                py_repr(pred)));
      }
      preds.push_back(pred[0].get<std::string>());
    } else {
      preds.push_back(pred.is_string() ? pred.get<std::string>() : py_str(pred));
    }
  }
  Outcome o;
  const bool can_err = iters > 0 && items.size() > 1;
  if (agg == "chrf") {
    std::vector<scoring::ChrfStats> stats;
    stats.reserve(items.size());
    for (size_t i = 0; i < items.size(); i++) {
      refs[i].resize(streams);
      stats.push_back(scoring::chrf_segment_stats(preds[i], refs[i]));
    }
    auto sum = [&](auto&& at, size_t count) {
      scoring::ChrfStats t{};
      for (size_t j = 0; j < count; j++) {
        const auto& s = stats[at(j)];
        for (size_t k = 0; k < t.size(); k++) t[k] += s[k];
      }
      return scoring::chrf_score(t);
    };
    o.value = sum([](size_t j) { return j; }, stats.size());
    if (can_err) {
      o.stderr_value = bootstrap_stderr(items.size(), iters, [&](const std::vector<int64_t>& idx) {
        return sum([&](size_t j) { return static_cast<size_t>(idx[j]); }, idx.size());
      });
    }
    return o;
  }
  std::vector<scoring::BleuStats> stats;
  stats.reserve(items.size());
  for (size_t i = 0; i < items.size(); i++) {
    refs[i].resize(streams);
    stats.push_back(scoring::bleu_segment_stats(preds[i], refs[i]));
  }
  scoring::BleuStats total;
  for (const auto& s : stats) total += s;
  o.value = scoring::bleu_score(total);
  if (can_err) {
    o.stderr_value = bootstrap_stderr(items.size(), iters, [&](const std::vector<int64_t>& idx) {
      scoring::BleuStats t;
      for (int64_t i : idx) t += stats[static_cast<size_t>(i)];
      return scoring::bleu_score(t);
    });
  }
  return o;
}

// lm_eval/tasks/squadv2/task.py _squad_agg (L39-49): evaluate's squad_v2 over every doc's
// (predictions, references) pair, reading the metric's own key (0 when absent, as
// `.get(key, 0)`). lm-eval has no stderr for this custom aggregation.
double squad_v2_aggregate(const std::vector<Json>& items, const std::string& metric) {
  std::vector<scoring::SquadV2Item> qs;
  qs.reserve(items.size());
  for (const Json& it : items) {
    const Json& pred = pair_at(it, 0, metric);
    const Json& ref = pair_at(it, 1, metric);
    if (!pred.is_object() || !ref.is_object() || !ref.contains("answers") ||
        !ref["answers"].is_object() || !ref["answers"].contains("text"))
      throw Error(
          fmt::format("metric '{}': squad_v2 needs ({{id, prediction_text, "
                      "no_answer_probability}}, {{id, answers: {{text}}}}) pairs, got {}",
                      metric, py_repr(it)));
    scoring::SquadV2Item q;
    q.id = py_str(pred.value("id", Json("")));
    q.prediction = py_str(pred.value("prediction_text", Json("")));
    q.no_answer_probability = to_double(pred.value("no_answer_probability", Json(0.0)), metric);
    for (const Json& a : ref["answers"]["text"]) q.answers.push_back(py_str(a));
    qs.push_back(std::move(q));
  }
  auto out = scoring::squad_v2_evaluate(qs);
  auto found = out.find(metric);
  return found == out.end() ? 0.0 : found->second;
}

}  // namespace

MetricValue aggregate_metric(const MetricSpec& spec, const std::string& filter,
                             const std::vector<Json>& items, int64_t bootstrap_iters) {
  MetricValue mv;
  mv.metric = spec.name;
  mv.filter = filter;
  mv.higher_is_better = spec.higher_is_better;
  if (items.empty()) {
    throw Error(fmt::format("metric '{}' (filter '{}') has no per-doc values to aggregate",
                            spec.name, filter));
  }
  // bleu, chrf and ter cap the bootstrap at 100 replicates, by metric name.
  int64_t iters = bootstrap_iters;
  if (spec.name == "bleu" || spec.name == "chrf" || spec.name == "ter") {
    iters = std::min<int64_t>(iters, 100);
  }
  const std::string& agg = spec.aggregation;
  Outcome o;
  if (agg == "mean" || agg == "median" || agg == "perplexity" || agg == "nanmean") {
    o = aggregate_mean_like(agg, numbers(items, spec.name), iters);
  } else if (agg == "weighted_perplexity" || agg == "bits_per_byte") {
    std::vector<double> a, b;
    for (const Json& it : items) {
      a.push_back(to_double(pair_at(it, 0, spec.name), spec.name));
      b.push_back(to_double(pair_at(it, 1, spec.name), spec.name));
    }
    const double wm = scoring::py_sum(a) / scoring::py_sum(b);
    o.value = agg == "weighted_perplexity" ? std::exp(-wm) : -wm / std::log(2.0);
  } else if (agg == "f1" || agg == "matthews_corrcoef" || agg == "mcc") {
    o = aggregate_labels(agg, items, spec.name, iters);
  } else if (agg == "brier_score") {
    o.value = brier(items, spec.name);
  } else if (agg == "bleu" || agg == "chrf") {
    o = aggregate_sacrebleu(agg, items, spec.name, iters);
  } else if (agg == "bypass") {
    o.value = 999;
  } else if (agg == "squad_v2") {
    o.value = squad_v2_aggregate(items, spec.name);
  } else if (agg == "repeat_mean") {
    auto [value, err] = aggregate_repeat_mean(items, spec.name);
    o.value = value;
    o.stderr_value = err;
  } else {
    throw Error(fmt::format("unknown aggregation '{}' for metric '{}'", agg, spec.name), "",
                "supported: mean, median, nanmean, perplexity, weighted_perplexity, "
                "bits_per_byte, f1, matthews_corrcoef, brier_score, bleu, chrf, bypass, squad_v2");
  }
  mv.value = o.value;
  mv.stderr_value = o.stderr_value;
  return mv;
}

std::vector<MetricValue> aggregate_task(const std::vector<MetricSpec>& specs,
                                        const std::vector<Sample>& samples,
                                        int64_t bootstrap_iters) {
  std::vector<MetricValue> out;
  // Filters in pipeline order, and each filter's metrics in the order process_results
  // emits them; a sample without values (a failed one) contributes nothing, so the order
  // is the union over samples in first-seen order.
  std::vector<std::pair<std::string, std::vector<std::string>>> order;
  for (const Sample& s : samples) {
    for (const FilteredSample& fs : s.filtered) {
      auto it = std::find_if(order.begin(), order.end(),
                             [&](const auto& o) { return o.first == fs.filter; });
      if (it == order.end()) {
        order.emplace_back(fs.filter, std::vector<std::string>{});
        it = order.end() - 1;
      }
      for (auto m = fs.metric_values.begin(); m != fs.metric_values.end(); ++m) {
        if (std::find(it->second.begin(), it->second.end(), m.key()) == it->second.end()) {
          it->second.push_back(m.key());
        }
      }
    }
  }
  for (const auto& [filter, metric_names] : order) {
    for (const std::string& metric : metric_names) {
      const MetricSpec* spec = nullptr;
      for (const auto& s : specs) {
        if (s.name == metric) spec = &s;
      }
      MetricSpec fallback;
      if (!spec) {
        fallback.name = metric;
        fallback.aggregation = default_aggregation(metric);
        fallback.higher_is_better = default_higher_is_better(metric);
        spec = &fallback;
      }
      std::vector<Json> items;
      items.reserve(samples.size());
      for (const Sample& s : samples) {
        for (const FilteredSample& fs : s.filtered) {
          if (fs.filter != filter) continue;
          auto v = fs.metric_values.find(metric);
          if (v != fs.metric_values.end()) items.push_back(*v);
        }
      }
      if (items.empty()) continue;
      out.push_back(aggregate_metric(*spec, filter, items, bootstrap_iters));
    }
  }
  return out;
}

std::vector<GroupMetricSpec> parse_aggregate_metric_list(const Json& list,
                                                         const std::string& where) {
  std::vector<GroupMetricSpec> out;
  if (list.is_null()) return out;
  const Json entries = list.is_array() ? list : Json::array({list});
  for (size_t i = 0; i < entries.size(); i++) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const Json& e = entries[i];
    if (!e.is_object() || !e.contains("metric") || !e["metric"].is_string()) {
      throw Error("an aggregate_metric_list entry needs a 'metric' name", w);
    }
    GroupMetricSpec g;
    g.metric = e["metric"].get<std::string>();
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& key = it.key();
      const Json& v = it.value();
      if (key == "metric") continue;
      if (key == "aggregation") {
        if (!v.is_string() || v.get<std::string>() != "mean") {
          throw Error("group aggregation must be 'mean' (the only one lm-eval supports)", w);
        }
      } else if (key == "weight_by_size") {
        if (!v.is_boolean()) throw Error("'weight_by_size' must be true or false", w);
        g.weight_by_size = v.get<bool>();
      } else if (key == "filter_list") {
        g.filter_list.clear();
        if (v.is_string()) {
          g.filter_list.push_back(v.get<std::string>());
        } else if (v.is_array()) {
          for (const Json& f : v) {
            if (!f.is_string()) throw Error("'filter_list' must be a list of filter names", w);
            g.filter_list.push_back(f.get<std::string>());
          }
        } else {
          throw Error("'filter_list' must be a list of filter names", w);
        }
      } else {
        throw Error(fmt::format("aggregate_metric_list entry has no setting '{}'", key), w,
                    "settings: metric, aggregation, weight_by_size, filter_list");
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

MetricValue aggregate_group_metric(const std::string& metric, const std::string& filter,
                                   const std::vector<GroupMember>& members, bool weight_by_size,
                                   bool higher_is_better) {
  MetricValue mv;
  mv.metric = metric;
  mv.filter = filter;
  mv.higher_is_better = higher_is_better;
  if (members.empty()) {
    throw Error(fmt::format("group metric '{},{}' has no tasks to aggregate", metric, filter));
  }
  std::vector<double> weighted, weights, pooled_terms, sizes;
  bool na = false;
  for (const auto& m : members) {
    const double w = weight_by_size ? static_cast<double>(m.size) : 1.0;
    weighted.push_back(m.value * w);
    weights.push_back(w);
    na = na || !m.stderr_value;
  }
  mv.value = scoring::py_sum(weighted) / scoring::py_sum(weights);
  if (!na) {
    for (const auto& m : members) {
      const double n = static_cast<double>(m.size);
      pooled_terms.push_back((n - 1) * (*m.stderr_value * *m.stderr_value) * n);
      sizes.push_back(n);
    }
    const double total = scoring::py_sum(sizes);
    const double pooled_var =
        scoring::py_sum(pooled_terms) / (total - static_cast<double>(members.size()));
    mv.stderr_value = std::sqrt(pooled_var / total);
  }
  return mv;
}

std::vector<MetricValue> aggregate_group(const std::vector<GroupMetricSpec>& specs,
                                         const std::vector<const TaskResult*>& leaves) {
  std::vector<MetricValue> out;
  for (const GroupMetricSpec& spec : specs) {
    for (const std::string& filter : spec.filter_list) {
      std::vector<GroupMember> members;
      bool higher = true;
      for (const TaskResult* t : leaves) {
        for (const MetricValue& mv : t->metrics) {
          if (mv.metric == spec.metric && mv.filter == filter) {
            // A leaf with failed docs weighs what its score was computed over.
            members.push_back(GroupMember{mv.value, mv.stderr_value, t->scored_len()});
            higher = mv.higher_is_better;
          }
        }
      }
      if (members.empty()) continue;
      out.push_back(
          aggregate_group_metric(spec.metric, filter, members, spec.weight_by_size, higher));
    }
  }
  return out;
}

}  // namespace retort
