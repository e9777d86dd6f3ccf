// process_results hooks of lm-eval task files, natively (the names match
// builtin_process_results_names() in src/tasks). Each takes the doc and lm-eval's `results`
// (multiple_choice: [[ll, is_greedy], ...] per choice; generate_until: [filtered reply])
// and returns the per-doc metric values as lm-eval's function does.
#include <cmath>

#include "scoring/math_equiv.h"
#include "scoring/scoring.h"
#include "util/error.h"
#include "util/latex_boxed.h"

namespace retort {

namespace {

// lm_eval/tasks/truthfulqa/utils.py:process_results_mc2: the normalised probability mass
// of the true answers, p_i = exp(ll_i) in float64 with no shift (all underflowing gives
// NaN, as numpy does).
Json truthfulqa_mc2(const Doc& doc, const Json& results) {
  if (!doc.contains("mc2_targets") || !doc["mc2_targets"].is_object() ||
      !doc["mc2_targets"].contains("labels"))
    throw Error("truthfulqa process_results_mc2: the doc has no mc2_targets.labels");
  const Json& labels = doc["mc2_targets"]["labels"];
  if (!labels.is_array() || labels.size() != results.size())
    throw Error("truthfulqa process_results_mc2: " + std::to_string(results.size()) +
                " results for " + std::to_string(labels.size()) + " labels");
  double total = 0.0, true_mass = 0.0;
  std::vector<double> p;
  for (const auto& r : results) p.push_back(std::exp(r.at(0).get<double>()));
  for (double x : p) total += x;
  for (size_t i = 0; i < p.size(); ++i)
    if (labels[i].is_number() && labels[i].get<double>() == 1) true_mass += p[i] / total;
  return Json{{"acc", true_mass}};
}

// lm_eval/tasks/minerva_math/utils.py process_results (L74-96):
//   exact_match: is_equiv(normalize_final_answer(get_unnormalized_answer(reply)),
//                doc["answer"]). lm-eval's is_equiv is sympy's parse_latex + simplify(a - b)
//                == 0 (False on any parse error); retort compares the same two normalised
//                strings with math_equiv (docs/math.md says where the two differ).
//   math_verify: verify(parse(doc["solution"]), parse(reply)) with the math-verify package;
//                retort reads the solution's last \boxed{} and the reply's final answer
//                (math_equiv.h extraction) and compares them with math_equiv.
Json minerva_math_results(const Doc& doc, const Json& results) {
  const std::string reply =
      results.is_array() && !results.empty() && results[0].is_string()
          ? results[0].get<std::string>()
          : (results.is_array() && !results.empty() ? results[0].dump() : std::string());
  auto text_field = [&](const char* k) {
    if (!doc.contains(k) || !doc[k].is_string())
      throw Error(std::string("minerva_math process_results: the doc has no string '") + k + "'",
                  "process_results", "the doc needs the columns process_docs adds");
    return doc[k].get<std::string>();
  };
  const std::string answer = text_field("answer");
  const std::string unnormalized = minerva_unnormalized_answer(reply);
  int exact = 0;
  if (unnormalized != "[invalidanswer]" && !answer.empty()) {
    const std::string pred = minerva_normalize_final_answer(unnormalized);
    exact = math::math_equiv(answer, pred).verdict == math::Verdict::kEqual;
  }
  const math::ScoredReply verified = math::score_reply(text_field("solution"), reply);
  return Json{{"exact_match", exact},
              {"math_verify", verified.equiv.verdict == math::Verdict::kEqual ? 1 : 0}};
}

struct Entry {
  const char* key;
  ProcessResultsHook fn;
};
const Entry kHooks[] = {
    {"truthfulqa/utils.process_results_mc2", &truthfulqa_mc2},
    {"minerva_math/utils.process_results", &minerva_math_results},
};

}  // namespace

const ProcessResultsHook* find_process_results_hook(const std::string& key) {
  for (const auto& e : kHooks)
    if (key == e.key) return &e.fn;
  return nullptr;
}

}  // namespace retort
