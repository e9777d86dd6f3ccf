// process_results hooks of lm-eval task files, natively (the names match
// builtin_process_results_names() in src/tasks). Each takes the doc and lm-eval's `results`
// (multiple_choice: [[ll, is_greedy], ...] per choice; generate_until: [filtered reply])
// and returns the per-doc metric values as lm-eval's function does.
#include <algorithm>
#include <cmath>

#include "scoring/bleu.h"
#include "scoring/math_equiv.h"
#include "scoring/reading_metrics.h"
#include "scoring/rouge.h"
#include "scoring/scoring.h"
#include "scoring/text.h"
#include "util/error.h"
#include "util/latex_boxed.h"
#include "util/pyvalue.h"

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

// lm_eval/tasks/leaderboard/math/utils.py process_results: exact_match is math-verify's
// verdict on the solution against the whole reply (minerva's math_verify above), and
// exact_match_original minerva's exact_match (process_result_v1: the "Final Answer" sentence,
// normalize_final_answer on both sides, then equality or is_equiv) against the doc's raw
// boxed answer, which this variant's process_docs leaves unnormalised.
Json leaderboard_math_results(const Doc& doc, const Json& results) {
  Doc normalised = doc;
  if (doc.is_object() && doc.contains("answer") && doc["answer"].is_string())
    normalised["answer"] = minerva_normalize_final_answer(doc["answer"].get<std::string>());
  Json minerva = minerva_math_results(normalised, results);
  return Json{{"exact_match", minerva["math_verify"]},
              {"exact_match_original", minerva["exact_match"]}};
}

const Json& field(const Doc& doc, const char* name, const char* hook) {
  if (!doc.is_object() || !doc.contains(name))
    throw Error(std::string(hook) + ": the doc has no '" + name + "' column", "",
                "this hook expects the dataset's original columns");
  return doc[name];
}

std::string text_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : py_str(v);
}

// The generation a hook scores: results[0] (the filtered reply).
std::string reply_of(const Json& results, const char* hook) {
  if (!results.is_array() || results.empty())
    throw Error(std::string(hook) + ": no generation to score");
  return text_of(results[0]);
}

// lm_eval/tasks/squadv2/task.py SQuAD2.process_results (L139-195): results are the
// generation and the loglikelihood of " unanswerable"; every metric gets the pair
// (predictions, references) that evaluate's squad_v2 aggregates over the corpus
// (scoring/aggregate.cc, aggregation "squad_v2").
Json squadv2_process_results(const Doc& doc, const Json& results) {
  const char* h = "squadv2 task.SQuAD2.process_results";
  if (!results.is_array() || results.size() < 2 || !results[1].is_array() || results[1].empty())
    throw Error(std::string(h) +
                ": needs the generation and the loglikelihood of \" unanswerable\"");
  Json id = field(doc, "id", h);
  Json answers = field(doc, "answers", h);
  Json pred = Json::object();
  pred["id"] = id;
  pred["prediction_text"] = reply_of(results, h);
  pred["no_answer_probability"] = std::exp(results[1][0].get<double>());
  Json ref = Json::object();
  ref["id"] = id;
  ref["answers"] = answers;
  Json pair = Json::array({pred, ref});
  Json out = Json::object();
  for (const char* k : {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
                        "best_exact", "best_f1"})
    out[k] = pair;
  return out;
}

// lm_eval/tasks/drop/utils.py process_results (L64-73): the reply is one predicted span;
// em and f1 are the best over the golds whose first span is not blank, each on its own.
// Python's max keeps the int 0 it starts from until a gold scores above it.
Json drop_process_results(const Doc& doc, const Json& results) {
  const char* h = "drop utils.process_results";
  std::vector<std::string> predicted = {reply_of(results, h)};
  const Json& golds = field(doc, "answers", h);
  if (!golds.is_array()) throw Error(std::string(h) + ": answers must be a list of span lists");
  Json em = 0, f1 = 0;
  for (const auto& g : golds) {
    std::vector<std::string> spans;
    if (g.is_array())
      for (const auto& x : g) spans.push_back(text_of(x));
    else
      spans.push_back(text_of(g));
    if (spans.empty()) throw Error(std::string(h) + ": a gold answer has no spans");
    scoring::DropScore s = scoring::drop_metrics(predicted, spans);
    if (py_strip(spans[0]).empty()) continue;
    if (s.em > em.get<double>()) em = s.em;
    if (s.f1 > f1.get<double>()) f1 = s.f1;
  }
  return Json{{"em", em}, {"f1", f1}};
}

// lm_eval/tasks/coqa/utils.py doc_to_target (L19-34): the last turn's answer, then each
// additional answer set's answer for that turn unless already there (ignoring case).
std::vector<std::string> coqa_golds(const Doc& doc, const char* h) {
  const Json& questions = field(doc, "questions", h);
  const Json& answers = field(doc, "answers", h);
  if (!questions.is_object() || !questions.contains("input_text") || !answers.is_object() ||
      !answers.contains("input_text"))
    throw Error(std::string(h) + ": questions and answers need input_text lists");
  const size_t turn = questions["input_text"].size();
  if (turn == 0 || answers["input_text"].size() < turn)
    throw Error(std::string(h) + ": the story has " + std::to_string(turn) + " questions and " +
                std::to_string(answers["input_text"].size()) + " answers");
  std::vector<std::string> golds = {text_of(answers["input_text"][turn - 1])};
  std::vector<std::string> lowered = {scoring::py_lower(golds[0])};
  if (doc.contains("additional_answers") && doc["additional_answers"].is_object())
    for (const auto& [key, set] : doc["additional_answers"].items()) {
      if (!set.is_object() || !set.contains("input_text") || set["input_text"].size() < turn)
        throw Error(std::string(h) + ": additional_answers." + key + " has no answer for turn " +
                    std::to_string(turn));
      std::string a = text_of(set["input_text"][turn - 1]);
      std::string low = scoring::py_lower(a);
      if (std::find(lowered.begin(), lowered.end(), low) != lowered.end()) continue;
      golds.push_back(a);
      lowered.push_back(low);
    }
  return golds;
}

// lm_eval/tasks/coqa/utils.py process_results (L72-77): the reply's first line, stripped,
// scored by compute_scores.
Json coqa_process_results(const Doc& doc, const Json& results) {
  const char* h = "coqa utils.process_results";
  std::string pred = py_strip(reply_of(results, h));
  pred = pred.substr(0, pred.find('\n'));
  scoring::CoqaScore s = scoring::coqa_scores(coqa_golds(doc, h), pred);
  return Json{{"em", s.em}, {"f1", s.f1}};
}

// lm_eval/tasks/truthfulqa/utils.py process_results_gen (L55-123): the raw completion's
// sentence BLEU (sacrebleu corpus_bleu, exp smoothing, intl tokenizer; bleu() L126-146) and
// ROUGE-1/2/Lsum (rouge-score, after " . " -> ".\n"; rouge() L149-180; one sample, so the
// bootstrap's mid is the score) against every correct and incorrect answer; per measure the
// best correct score (max), its margin over the best incorrect one (diff) and whether it wins
// (acc). BLEURT is commented out in lm-eval's file and absent here too.
Json truthfulqa_gen(const Doc& doc, const Json& results) {
  const char* h = "truthfulqa utils.process_results_gen";
  const std::string completion = reply_of(results, h);
  auto refs = [&](const char* column) {
    const Json& v = field(doc, column, h);
    if (!v.is_array() || v.empty())
      throw Error(std::string(h) + ": " + column + " must be a non-empty list", "",
                  "numpy's nanmax raises on an empty list in lm-eval too");
    std::vector<std::string> out;
    for (const auto& x : v) out.push_back(text_of(x));
    return out;
  };
  const std::vector<std::string> correct = refs("correct_answers");
  const std::vector<std::string> incorrect = refs("incorrect_answers");
  auto prepare = [](std::string s) {  // str.replace(" . ", ".\n")
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(" . ", pos)) != std::string::npos; pos = hit + 3)
      out += s.substr(pos, hit - pos) + ".\n";
    return out + s.substr(pos);
  };
  struct Best {
    double correct = -1, incorrect = -1;
  };
  Best bleu, r1, r2, rl;
  auto add = [](Best& b, bool is_correct, double x) {
    double& m = is_correct ? b.correct : b.incorrect;
    m = std::max(m, x);
  };
  const std::string pred = prepare(completion);
  for (size_t i = 0; i < correct.size() + incorrect.size(); ++i) {
    const bool is_correct = i < correct.size();
    const std::string& ref = is_correct ? correct[i] : incorrect[i - correct.size()];
    add(bleu, is_correct,
        scoring::bleu_score(
            scoring::bleu_segment_stats(completion, {ref}, scoring::BleuTokenizer::kIntl)));
    scoring::RougeScores r = scoring::rouge_scores(prepare(ref), pred);
    add(r1, is_correct, r.rouge1 * 100);
    add(r2, is_correct, r.rouge2 * 100);
    add(rl, is_correct, r.rougeLsum * 100);
  }
  Json out = Json::object();
  for (const auto& [name, b] : std::vector<std::pair<const char*, Best>>{
           {"bleu", bleu}, {"rouge1", r1}, {"rouge2", r2}, {"rougeL", rl}}) {
    out[std::string(name) + "_max"] = b.correct;
    out[std::string(name) + "_acc"] = b.correct > b.incorrect ? 1 : 0;
    out[std::string(name) + "_diff"] = b.correct - b.incorrect;
  }
  return out;
}

// lm_eval/tasks/hendrycks_math/utils.py process_results (lm-eval 4e7e0d4):
// exact_match = is_equiv(candidate, remove_boxed(last_boxed_only_string(doc["solution"])))
// with is_equiv's strip_string rules (math::hendrycks_is_equiv). A solution without a box
// makes lm-eval's remove_boxed fail; is_equiv(x, None) is False, so it scores 0 here.
Json hendrycks_math_results(const Doc& doc, const Json& results) {
  const char* h = "hendrycks_math process_results";
  std::string candidate = math::hendrycks_dollar_candidate(reply_of(results, h));
  auto gold = hendrycks_boxed_answer(text_of(field(doc, "solution", h)));
  return Json{{"exact_match", gold && math::hendrycks_is_equiv(candidate, *gold) ? 1 : 0}};
}

// lm_eval/tasks/aime/utils.py process_results (lm-eval 4e7e0d4): the '$' candidate, replaced
// by the inside of the reply's last \boxed{} when remove_boxed accepts it (an \fbox or
// unbalanced braces keep the candidate); the target is str() of the doc's first column
// named "answer" in any case (aime24: Answer, aime25: answer); is_equiv as hendrycks_math.
Json aime_results(const Doc& doc, const Json& results) {
  const char* h = "aime process_results";
  const std::string reply = reply_of(results, h);
  std::string answer = math::hendrycks_dollar_candidate(reply);
  if (auto boxed = hendrycks_boxed_answer(reply)) answer = *boxed;
  const Json* target = nullptr;
  if (doc.is_object())
    for (auto it = doc.begin(); it != doc.end() && !target; ++it)
      if (scoring::py_lower(it.key()) == "answer") target = &it.value();
  if (!target)
    throw Error(std::string(h) + ": the doc has no column named 'answer' (in any case)", "",
                "this hook expects the AIME datasets' columns");
  return Json{{"exact_match", math::hendrycks_is_equiv(answer, text_of(*target)) ? 1 : 0}};
}

struct Entry {
  const char* key;
  ProcessResultsHook fn;
  std::vector<std::string> metrics;  // the keys the hook returns
};
const std::vector<Entry>& hooks() {
  static const std::vector<Entry> kHooks = {
      {"truthfulqa/utils.process_results_mc2", &truthfulqa_mc2, {"acc"}},
      {"minerva_math/utils.process_results", &minerva_math_results, {"exact_match", "math_verify"}},
      {"hendrycks_math/utils.process_results", &hendrycks_math_results, {"exact_match"}},
      {"aime/utils.process_results", &aime_results, {"exact_match"}},
      {"leaderboard/math/utils.process_results",
       &leaderboard_math_results,
       {"exact_match", "exact_match_original"}},
      {"squadv2/task.SQuAD2.process_results",
       &squadv2_process_results,
       {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_exact",
        "best_f1"}},
      {"drop/utils.process_results", &drop_process_results, {"em", "f1"}},
      {"coqa/utils.process_results", &coqa_process_results, {"em", "f1"}},
      {"truthfulqa/utils.process_results_gen",
       &truthfulqa_gen,
       {"bleu_max", "bleu_acc", "bleu_diff", "rouge1_max", "rouge1_acc", "rouge1_diff",
        "rouge2_max", "rouge2_acc", "rouge2_diff", "rougeL_max", "rougeL_acc", "rougeL_diff"}},
  };
  return kHooks;
}

}  // namespace

const ProcessResultsHook* find_process_results_hook(const std::string& key) {
  for (const auto& e : hooks())
    if (key == e.key) return &e.fn;
  return nullptr;
}

const std::vector<std::string>* process_results_metrics(const std::string& key) {
  for (const auto& e : hooks())
    if (key == e.key) return &e.metrics;
  return nullptr;
}

}  // namespace retort
