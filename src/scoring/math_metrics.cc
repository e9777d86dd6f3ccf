#include "scoring/math_metrics.h"

#include <cmath>

#include "scoring/math_equiv.h"
#include "scoring/pass_at_k.h"
#include "scoring/stats.h"
#include "util/error.h"

namespace retort {

namespace {

std::optional<int64_t> suffix_k(const std::string& name, const char* prefix) {
  std::string p(prefix);
  if (name.rfind(p, 0) != 0 || name.size() == p.size()) return std::nullopt;
  int64_t k = 0;
  for (size_t i = p.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || k > 1000000) return std::nullopt;
    k = k * 10 + (name[i] - '0');
  }
  if (k < 1) return std::nullopt;
  return k;
}

std::string text_of(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::vector<std::string> answers_of(const Json& result) {
  std::vector<std::string> out;
  if (result.is_array())
    for (const auto& r : result) out.push_back(text_of(r));
  else
    out.push_back(text_of(result));
  return out;
}

bool equal_to_gold(const std::string& gold, const std::string& answer) {
  return math::math_equiv(gold, answer).verdict == math::Verdict::kEqual;
}

}  // namespace

bool is_math_metric(const std::string& name) {
  return name == "math_equiv" || suffix_k(name, "pass@") || suffix_k(name, "maj@");
}

Json score_math_metric(const std::string& name, const Json& result, const Json& gold_in) {
  std::string gold = math::extract_gold(text_of(gold_in)).answer;
  std::vector<std::string> answers = answers_of(result);
  if (name == "math_equiv") {
    if (!result.is_array()) return equal_to_gold(gold, answers[0]) ? 1.0 : 0.0;
    Json out = Json::array();
    for (const auto& a : answers) out.push_back(equal_to_gold(gold, a) ? 1 : 0);
    return out;
  }
  if (auto k = suffix_k(name, "pass@")) {
    int64_t n = static_cast<int64_t>(answers.size()), c = 0;
    for (const auto& a : answers) c += equal_to_gold(gold, a);
    if (n < *k)
      throw Error("metric " + name + " needs at least " + std::to_string(*k) +
                      " answers per doc, got " + std::to_string(n),
                  "metric_list", "raise --repeats (or the task's repeats) to at least k");
    return pass_at_k(n, c, *k);
  }
  if (auto k = suffix_k(name, "maj@")) {
    // Vote by normalised form, so "1/2" and "\frac{1}{2}" count together only when they
    // normalise the same; the winner is then compared mathematically.
    std::vector<std::string> keys;
    std::vector<std::string> firsts;
    for (size_t i = 0; i < answers.size() && static_cast<int64_t>(i) < *k; ++i) {
      std::string key = answers[i].empty() ? "" : math::normalize_answer(answers[i]);
      keys.push_back(key);
    }
    std::string winner = majority_answer(keys);
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == winner) return !winner.empty() && equal_to_gold(gold, answers[i]) ? 1.0 : 0.0;
    return 0.0;
  }
  throw Error("unknown math metric '" + name + "'");
}

std::pair<double, std::optional<double>> aggregate_repeat_mean(const std::vector<Json>& items,
                                                               const std::string& metric) {
  std::vector<double> per_doc;
  size_t repeats = SIZE_MAX;
  bool lists = true;
  double sum = 0;
  size_t count = 0;
  for (const Json& it : items) {
    if (it.is_array()) {
      repeats = std::min(repeats, it.size());
      double s = 0;
      for (const auto& x : it) s += x.get<double>();
      sum += s;
      count += it.size();
      per_doc.push_back(it.empty() ? 0.0 : s / static_cast<double>(it.size()));
    } else if (it.is_number()) {
      lists = false;
      sum += it.get<double>();
      ++count;
      per_doc.push_back(it.get<double>());
    } else {
      throw Error("metric '" + metric + "': per-doc value " + it.dump() +
                  " is neither a number nor a list of numbers");
    }
  }
  if (count == 0) return {0.0, std::nullopt};
  double value = sum / static_cast<double>(count);
  if (lists && repeats > 1 && repeats != SIZE_MAX) {
    // Evalchemy (AIME24/eval_instruct.py): np.std(accuracies over repeats) / sqrt(n_repeat).
    std::vector<double> acc(repeats, 0.0);
    for (const Json& it : items)
      for (size_t r = 0; r < repeats; ++r) acc[r] += it[r].get<double>();
    double mean = 0;
    for (auto& a : acc) {
      a /= static_cast<double>(items.size());
      mean += a;
    }
    mean /= static_cast<double>(repeats);
    double var = 0;
    for (double a : acc) var += (a - mean) * (a - mean);
    var /= static_cast<double>(repeats);
    return {value, std::sqrt(var) / std::sqrt(static_cast<double>(repeats))};
  }
  if (per_doc.size() < 2) return {value, std::nullopt};
  return {value, scoring::mean_stderr(per_doc)};
}

Json math_answer_details(const std::vector<std::string>& replies, const Json& gold_in,
                         const std::vector<bool>& cut_off) {
  const std::string gold = math::extract_gold(text_of(gold_in)).answer;
  Json out = Json::array();
  for (size_t i = 0; i < replies.size(); ++i) {
    const std::string& reply = replies[i];
    const bool cut = i < cut_off.size() && cut_off[i];
    math::Extraction ex = math::extract_answer(math::strip_thinking(reply), cut);
    math::EquivResult eq = math::math_equiv(gold, ex.answer);
    Json d = Json::object();
    d["rule"] = math::rule_name(ex.rule);
    d["extracted"] = ex.answer;
    d["gold_normalized"] = eq.gold_normalized;
    d["pred_normalized"] = eq.pred_normalized;
    d["verdict"] = math::verdict_name(eq.verdict);
    d["no_answer"] = ex.rule == math::ExtractRule::kNone;
    out.push_back(std::move(d));
  }
  return out;
}

Json evalchemy_math_results(const std::vector<Json>& per_doc, bool single) {
  size_t repeats = SIZE_MAX;
  for (const Json& it : per_doc) repeats = std::min(repeats, it.is_array() ? it.size() : 1);
  if (per_doc.empty() || repeats == 0 || repeats == SIZE_MAX) return Json::object();
  auto at = [](const Json& it, size_t r) {
    return (it.is_array() ? it[r] : it).get<double>() > 0.5 ? 1 : 0;
  };
  const auto total = static_cast<int64_t>(per_doc.size());
  Json out = Json::object();
  out["num_total"] = total;
  if (single) {
    int64_t solved = 0;
    for (const Json& it : per_doc) solved += at(it, 0);
    out["num_solved"] = solved;
    out["accuracy"] = static_cast<double>(solved) / static_cast<double>(total);
    return out;
  }
  std::vector<double> acc;
  Json run_stats = Json::array();
  double solved_sum = 0;
  for (size_t r = 0; r < repeats; ++r) {
    int64_t solved = 0;
    for (const Json& it : per_doc) solved += at(it, r);
    const double a = static_cast<double>(solved) / static_cast<double>(total);
    acc.push_back(a);
    solved_sum += static_cast<double>(solved);
    run_stats.push_back(Json{{"repetition", static_cast<int64_t>(r + 1)},
                             {"num_total", total},
                             {"num_solved", solved},
                             {"accuracy", a}});
  }
  double mean = 0;
  for (double a : acc) mean += a;
  mean /= static_cast<double>(repeats);
  double var = 0;
  for (double a : acc) var += (a - mean) * (a - mean);
  var /= static_cast<double>(repeats);  // np.std, ddof=0
  out["solved_avg"] = solved_sum / static_cast<double>(repeats);
  out["run_stats"] = std::move(run_stats);
  out["accuracy_avg"] = mean;
  out["accuracy_std_err"] = std::sqrt(var) / std::sqrt(static_cast<double>(repeats));
  out["num_repeat"] = static_cast<int64_t>(repeats);
  return out;
}

}  // namespace retort
