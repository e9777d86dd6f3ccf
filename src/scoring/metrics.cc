// The metric registry and per-doc scoring (lm-eval api/registry.py, api/metrics.py,
// ConfigurableTask.process_results).
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scoring/code_exec.h"
#include "scoring/math_equiv.h"
#include "scoring/math_metrics.h"
#include "scoring/scoring.h"
#include "scoring/text.h"
#include "util/error.h"
#include "util/log.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

struct MetricInfo {
  const char* name;
  const char* aggregation;
  bool higher_is_better;
};

constexpr MetricInfo kMetrics[] = {
    {"acc", "mean", true},
    {"acc_norm", "mean", true},
    {"acc_bytes", "mean", true},
    {"acc_mutual_info", "mean", true},
    {"exact_match", "mean", true},
    {"f1", "f1", true},
    {"mcc", "matthews_corrcoef", true},
    {"brier_score", "brier_score", false},
    {"perplexity", "perplexity", false},
    {"word_perplexity", "weighted_perplexity", false},
    {"byte_perplexity", "weighted_perplexity", false},
    {"bits_per_byte", "bits_per_byte", false},
    {"bleu", "bleu", true},
    {"chrf", "chrf", true},
    {"bypass", "bypass", true},
    // lm-eval's minerva_math: the reference's final answer (its last \boxed{}) against the
    // reply's, compared mathematically (lm-eval uses the math-verify package).
    {"math_verify", "mean", true},
};

const MetricInfo* find_metric(const std::string& name) {
  for (const auto& m : kMetrics) {
    if (name == m.name) return &m;
  }
  // pass@K for any K: scored by running the programs (code_exec.h score_code).
  static constexpr MetricInfo kPassAtK = {"pass@k", "mean", true};
  if (is_code_metric(name)) return &kPassAtK;
  // Math metrics (math_metrics.h): math_equiv, pass@K, maj@K.
  static constexpr MetricInfo kMathEquiv = {"math_equiv", "repeat_mean", true};
  static constexpr MetricInfo kMathMean = {"pass@k / maj@k", "mean", true};
  if (name == "math_equiv") return &kMathEquiv;
  if (is_math_metric(name)) return &kMathMean;
  return nullptr;
}

[[noreturn]] void unknown_metric(const std::string& name, const std::string& where) {
  if (name == "ter") {
    throw Error(fmt::format("metric '{}' is not implemented in retort yet", name), where,
                "use bleu or chrf, or leave the metric out");
  }
  std::string hint = "supported metrics: " + join(supported_metrics(), ", ");
  auto near = closest_matches(name, supported_metrics());
  if (!near.empty()) hint = fmt::format("did you mean '{}'? ", near[0]) + hint;
  throw Error(fmt::format("unknown metric '{}'", name), where, hint);
}

// Which metrics each output type's process_results produces.
bool produced_by(const std::string& metric, OutputType type) {
  static const std::vector<std::string> mc = {
      "acc", "acc_norm", "acc_bytes", "acc_mutual_info", "exact_match", "f1", "mcc", "brier_score"};
  static const std::vector<std::string> ll = {"perplexity", "acc"};
  static const std::vector<std::string> rolling = {"word_perplexity", "byte_perplexity",
                                                   "bits_per_byte"};
  static const std::vector<std::string> gen = {"exact_match", "bleu",   "chrf",       "f1",
                                               "mcc",         "bypass", "math_verify"};
  const std::vector<std::string>* list = nullptr;
  switch (type) {
    case OutputType::kMultipleChoice:
      list = &mc;
      break;
    case OutputType::kLoglikelihood:
      list = &ll;
      break;
    case OutputType::kLoglikelihoodRolling:
      list = &rolling;
      break;
    case OutputType::kGenerateUntil:
      list = &gen;
      break;
  }
  for (const auto& m : *list) {
    if (m == metric) return true;
  }
  return type == OutputType::kGenerateUntil && (is_math_metric(metric) || is_code_metric(metric));
}

bool has(const std::vector<MetricSpec>& specs, const char* name) {
  for (const auto& s : specs) {
    if (s.name == name) return true;
  }
  return false;
}

// numpy.argmax: the first maximum; a NaN wins at its first occurrence.
size_t argmax(const std::vector<double>& v) {
  size_t best = 0;
  for (size_t i = 0; i < v.size(); i++) {
    if (std::isnan(v[i])) return i;
    if (v[i] > v[best]) best = i;
  }
  return best;
}

bool kwarg_bool(const Json& kwargs, const char* key) {
  return kwargs.contains(key) && py_truthy(kwargs[key]);
}

}  // namespace

const std::vector<std::string>& supported_metrics() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& m : kMetrics) v.emplace_back(m.name);
    for (const char* m : {"math_equiv", "pass@K", "maj@K"}) v.emplace_back(m);
    return v;
  }();
  return names;
}

const std::vector<std::string>& supported_aggregations() {
  static const std::vector<std::string> names = {
      "mean",          "median", "nanmean",           "perplexity", "weighted_perplexity",
      "bits_per_byte", "f1",     "matthews_corrcoef", "mcc",        "brier_score",
      "bleu",          "bypass", "repeat_mean",       "squad_v2"};
  return names;
}

std::string default_aggregation(const std::string& metric, const std::string& where) {
  const MetricInfo* m = find_metric(metric);
  if (!m) unknown_metric(metric, where);
  return m->aggregation;
}

bool default_higher_is_better(const std::string& metric, const std::string& where) {
  const MetricInfo* m = find_metric(metric);
  if (!m) unknown_metric(metric, where);
  return m->higher_is_better;
}

std::vector<MetricSpec> default_metrics(OutputType type) {
  std::vector<std::string> names;
  switch (type) {
    case OutputType::kMultipleChoice:
      names = {"acc", "acc_norm"};
      break;
    case OutputType::kGenerateUntil:
      names = {"exact_match"};
      break;
    case OutputType::kLoglikelihood:
      names = {"perplexity", "acc"};
      break;
    case OutputType::kLoglikelihoodRolling:
      names = {"word_perplexity", "byte_perplexity", "bits_per_byte"};
      break;
  }
  std::vector<MetricSpec> out;
  for (const auto& n : names) {
    MetricSpec s;
    s.name = n;
    s.aggregation = default_aggregation(n);
    s.higher_is_better = default_higher_is_better(n);
    out.push_back(std::move(s));
  }
  return out;
}

MetricSpec parse_metric(const Json& entry, const std::string& where, bool hook_metric) {
  if (!entry.is_object() || !entry.contains("metric")) {
    throw Error("a metric_list entry needs a 'metric' name", where);
  }
  if (!entry["metric"].is_string()) {
    throw Error("'metric' must be a metric name; Python metric functions cannot run in retort",
                where, "supported metrics: " + join(supported_metrics(), ", "));
  }
  MetricSpec s;
  s.name = entry["metric"].get<std::string>();
  if (hook_metric && !find_metric(s.name)) {
    // A name only the task's process_results hook produces: lm-eval's defaults for it.
    s.aggregation = "mean";
    s.higher_is_better = true;
  } else {
    s.aggregation = default_aggregation(s.name, where);
    s.higher_is_better = default_higher_is_better(s.name, where);
  }
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "metric" || key == "hf_evaluate") continue;
    if (key == "aggregation") {
      if (!v.is_string()) {
        throw Error("'aggregation' must be an aggregation name", where,
                    "supported: " + join(supported_aggregations(), ", "));
      }
      s.aggregation = v.get<std::string>();
      bool ok = false;
      for (const auto& a : supported_aggregations()) ok = ok || a == s.aggregation;
      if (!ok) {
        throw Error(fmt::format("unknown aggregation '{}'", s.aggregation), where,
                    "supported: " + join(supported_aggregations(), ", "));
      }
    } else if (key == "higher_is_better") {
      if (!v.is_boolean()) throw Error("'higher_is_better' must be true or false", where);
      s.higher_is_better = v.get<bool>();
    } else {
      s.kwargs[key] = v;
    }
  }
  if (s.kwargs.contains("regexes_to_ignore")) {
    const Json& r = s.kwargs["regexes_to_ignore"];
    if (!r.is_null()) {
      if (!r.is_array()) throw Error("'regexes_to_ignore' must be a list of patterns", where);
      for (const Json& p : r) {
        if (!p.is_string()) throw Error("'regexes_to_ignore' must be a list of patterns", where);
        try {
          PyRegex::compile(p.get<std::string>());
        } catch (const Error& e) {
          throw Error(e.what_failed(), where, e.hint());
        }
      }
    }
  }
  return s;
}

std::vector<MetricSpec> parse_metric_list(const Json& metric_list, OutputType type,
                                          const std::string& where,
                                          const std::vector<std::string>* hook_metrics) {
  if (metric_list.is_null()) return default_metrics(type);
  if (!metric_list.is_array()) throw Error("metric_list must be a list", where);
  std::vector<MetricSpec> out;
  for (size_t i = 0; i < metric_list.size(); i++) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const Json& entry = metric_list[i];
    if (entry.is_object() && entry.contains("metric") && entry["metric"] == "ter") {
      // WMT tasks list bleu, chrf and ter together; keep the two retort has.
      log::warn("{}: metric 'ter' is not implemented in retort yet; it will not be reported", w);
      continue;
    }
    const bool by_hook = hook_metrics && entry.is_object() && entry.contains("metric") &&
                         std::find(hook_metrics->begin(), hook_metrics->end(), entry["metric"]) !=
                             hook_metrics->end();
    MetricSpec s = parse_metric(entry, w, by_hook);
    if (!by_hook && !produced_by(s.name, type)) {
      if (type == OutputType::kGenerateUntil) {
        throw Error(
            fmt::format("metric '{}' cannot score generate_until output", s.name), w,
            "generate_until supports exact_match, bleu, chrf, f1, mcc, bypass, math_verify, "
            "math_equiv, pass@K, maj@K");
      }
      // lm-eval silently reports nothing for such a metric; say so.
      log::warn("{}: metric '{}' is not produced for {} tasks; it will not be reported", w, s.name,
                output_type_name(type));
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool exact_match(const std::string& prediction, const std::string& reference, const Json& kwargs) {
  // lm-eval's hendrycks_math process_results scores exact_match with is_equiv (its
  // strip_string rules), not string equality; `equivalence: hendrycks_math` selects that.
  if (kwargs.contains("equivalence") && kwargs["equivalence"] == "hendrycks_math")
    return math::hendrycks_is_equiv(prediction, reference);
  std::string p = prediction, r = reference;
  if (kwargs.contains("regexes_to_ignore") && kwargs["regexes_to_ignore"].is_array()) {
    for (const Json& pat : kwargs["regexes_to_ignore"]) {
      p = py_re_sub(pat.get<std::string>(), "", p);
      r = py_re_sub(pat.get<std::string>(), "", r);
    }
  }
  if (kwarg_bool(kwargs, "ignore_case")) {
    p = scoring::py_lower(p);
    r = scoring::py_lower(r);
  }
  if (kwarg_bool(kwargs, "ignore_punctuation")) {
    p = scoring::remove_ascii_punctuation(p);
    r = scoring::remove_ascii_punctuation(r);
  }
  if (kwarg_bool(kwargs, "ignore_numbers")) {
    p = scoring::remove_ascii_digits(p);
    r = scoring::remove_ascii_digits(r);
  }
  return p == r;
}

Json score_multiple_choice(const std::vector<MetricSpec>& specs, const MultipleChoiceInput& in) {
  const size_t k = in.choices.size();
  if (in.lls.size() != k || in.is_greedy.size() != k) {
    throw Error(
        fmt::format("multiple_choice doc has {} choices but {} loglikelihoods", k, in.lls.size()));
  }
  std::vector<double> by_len(k), by_bytes(k);
  for (size_t i = 0; i < k; i++) {
    by_len[i] = in.lls[i] / static_cast<double>(py_len(in.choices[i]));
    by_bytes[i] = in.lls[i] / static_cast<double>(in.choices[i].size());
  }
  const auto pred = static_cast<int64_t>(argmax(in.lls));
  const auto pred_norm = static_cast<int64_t>(argmax(by_len));
  const auto pred_byte = static_cast<int64_t>(argmax(by_bytes));
  const auto n = static_cast<int64_t>(k);

  // Gold: an index (kept as is below len(choices), as Python keeps negative ones), a
  // choice string, or a list of indices; anything out of range becomes -100.
  bool gold_is_list = in.gold.is_array();
  std::vector<int64_t> golds;
  int64_t gold = -100;
  auto index_of = [&](const Json& g) -> int64_t {
    if (g.is_number_integer() || g.is_boolean()) {
      int64_t v = g.is_boolean() ? (g.get<bool>() ? 1 : 0) : g.get<int64_t>();
      return v < n ? v : -100;
    }
    if (g.is_string()) {
      for (size_t i = 0; i < k; i++) {
        if (in.choices[i] == g.get_ref<const std::string&>()) return static_cast<int64_t>(i);
      }
    }
    return -100;
  };
  if (gold_is_list) {
    for (const Json& g : in.gold) golds.push_back(index_of(g));
  } else {
    gold = index_of(in.gold);
  }
  bool bad_gold =
      gold_is_list ? std::find(golds.begin(), golds.end(), -100) != golds.end() : gold == -100;
  if (bad_gold) {
    log::warn("multiple_choice gold {} is not a valid choice index (of {}); the doc scores 0",
              py_repr(in.gold), k);
  }
  auto greedy_at = [&](int64_t i) -> bool {
    int64_t j = i < 0 ? i + n : i;  // Python indexing
    if (j < 0 || j >= n) return false;
    return in.is_greedy[static_cast<size_t>(j)];
  };
  auto in_gold = [&](int64_t p) {
    if (gold_is_list) return std::find(golds.begin(), golds.end(), p) != golds.end();
    return p == gold;
  };
  // lm-eval uses the multiple_target flag to choose "pred in gold" vs "pred == gold"; a
  // list gold with the flag off compares a number to a list, which is never equal.
  auto acc_of = [&](int64_t p) -> double {
    if (in.multiple_target) return in_gold(p) ? 1.0 : 0.0;
    return !gold_is_list && p == gold ? 1.0 : 0.0;
  };
  int64_t exact = 0;
  if (in.multiple_target) {
    if (gold_is_list) {
      for (int64_t g : golds) exact = exact || (g != -100 && greedy_at(g));
    } else {
      exact = gold != -100 && greedy_at(gold);
    }
  } else if (!gold_is_list) {
    exact = gold != -100 && greedy_at(gold);
  }
  Json gold_json = gold_is_list ? Json(golds) : Json(gold);

  Json out = Json::object();
  if (has(specs, "acc")) out["acc"] = acc_of(pred);
  if (has(specs, "f1")) out["f1"] = Json::array({gold_json, pred});
  if (has(specs, "mcc")) out["mcc"] = Json::array({gold_json, pred});
  if (has(specs, "acc_norm")) out["acc_norm"] = acc_of(pred_norm);
  if (has(specs, "acc_bytes")) out["acc_bytes"] = acc_of(pred_byte);
  if (has(specs, "exact_match")) out["exact_match"] = exact;
  if (has(specs, "brier_score")) {
    // utils.softmax: exp(x - max(x)) / sum.
    double mx = -std::numeric_limits<double>::infinity();
    for (double v : in.lls) mx = std::max(mx, v);
    std::vector<double> e(k);
    double sum = 0.0;
    for (size_t i = 0; i < k; i++) e[i] = std::exp(in.lls[i] - mx);
    for (size_t i = 0; i < k; i++) sum += e[i];
    Json probs = Json::array();
    for (size_t i = 0; i < k; i++) probs.push_back(e[i] / sum);
    out["brier_score"] = Json::array({gold_json, probs});
  }
  if (has(specs, "acc_mutual_info")) {
    if (in.lls_unconditional.size() != k) {
      throw Error("acc_mutual_info needs one unconditional loglikelihood per choice");
    }
    std::vector<double> mi(k);
    for (size_t i = 0; i < k; i++) mi[i] = in.lls[i] - in.lls_unconditional[i];
    const auto p = static_cast<int64_t>(argmax(mi));
    out["acc_mutual_info"] = !gold_is_list && p == gold ? 1.0 : 0.0;
  }
  return out;
}

Json score_loglikelihood(const std::vector<MetricSpec>& specs, double ll, bool is_greedy) {
  Json out = Json::object();
  if (has(specs, "perplexity")) out["perplexity"] = ll;
  if (has(specs, "acc")) out["acc"] = is_greedy ? 1 : 0;
  return out;
}

Json score_loglikelihood_rolling(const std::vector<MetricSpec>& specs, double ll,
                                 const std::string& text) {
  const auto words = static_cast<int64_t>(py_re_split(R"(\s+)", text).size());
  const auto bytes = static_cast<int64_t>(text.size());
  Json out = Json::object();
  if (has(specs, "word_perplexity")) out["word_perplexity"] = Json::array({ll, words});
  if (has(specs, "byte_perplexity")) out["byte_perplexity"] = Json::array({ll, bytes});
  if (has(specs, "bits_per_byte")) out["bits_per_byte"] = Json::array({ll, bytes});
  return out;
}

Json score_generate(const std::vector<MetricSpec>& specs, const Json& result, const Json& gold_in,
                    bool multiple_target, const std::vector<std::string>* choices) {
  Json gold = gold_in;
  if (choices) {
    // doc_to_choice set: the target is an index into the choices.
    if (!gold.is_number_integer()) {
      throw Error(
          fmt::format("generate_until task with doc_to_choice needs an integer target, "
                      "got {}",
                      py_repr(gold)));
    }
    auto n = static_cast<int64_t>(choices->size());
    int64_t i = gold.get<int64_t>();
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
      throw Error(
          fmt::format("target index {} is out of range for {} choices", gold.get<int64_t>(), n));
    }
    gold = (*choices)[static_cast<size_t>(i)];
  } else if (multiple_target) {
    if (gold.is_string()) {  // list(str) in Python: its characters
      Json chars = Json::array();
      for (auto& cp : scoring::code_points(gold.get_ref<const std::string&>())) {
        chars.push_back(cp);
      }
      gold = chars;
    }
  } else if (result.is_string() && !gold.is_string() && !has(specs, "bypass")) {
    gold = py_str(gold);
  }
  const std::string pred = result.is_string() ? result.get<std::string>() : py_str(result);
  auto as_text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : py_str(v); };

  Json out = Json::object();
  for (const MetricSpec& spec : specs) {
    if (spec.name == "exact_match") {
      bool any = false;
      if (multiple_target) {
        Json golds = gold.is_array() ? gold : Json::array({gold});
        for (const Json& g : golds) any = any || exact_match(pred, as_text(g), spec.kwargs);
      } else {
        any = exact_match(pred, as_text(gold), spec.kwargs);
      }
      out["exact_match"] = any ? 1.0 : 0.0;
    } else if (spec.name == "bleu" || spec.name == "chrf" || spec.name == "f1" ||
               spec.name == "mcc") {
      out[spec.name] = Json::array({gold, result});
    } else if (spec.name == "bypass") {
      out["bypass"] = nullptr;
    } else if (spec.name == "math_verify") {
      const auto scored = math::score_reply(as_text(gold_in), pred);
      out["math_verify"] = scored.equiv.verdict == math::Verdict::kEqual ? 1.0 : 0.0;
    } else if (is_math_metric(spec.name) && !is_code_metric(spec)) {
      out[spec.name] = score_math_metric(spec.name, result, gold_in);
    }
  }
  return out;
}

}  // namespace retort
