// Internal: the answer-overlap metrics of lm-eval's reading-comprehension tasks, natively.
//  - SQuAD (the official SQuAD 2.0 evaluation script, as HF evaluate's `squad_v2` metric and
//    transformers' squad_metrics run it; lm-eval's squadv2 and coqa use them);
//  - DROP (lm_eval/tasks/drop/utils.py, after AllenNLP's drop_eval): its normalisation of
//    numbers, articles and punctuation, and bag-of-tokens F1 under the optimal one-to-one
//    alignment of predicted and gold spans (scipy's linear_sum_assignment there; our own
//    Hungarian method here).
// Python semantics are reproduced where they show: str.lower/split/strip are Unicode-aware,
// `\b` is Unicode-aware, float() accepts what Python's does.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retort::scoring {

// Python's str.split() with no argument (runs of Unicode whitespace).
std::vector<std::string> py_split_whitespace(std::string_view s);

// ----------------------------------------------------------------------------- SQuAD
// normalize_answer: lower, drop ASCII punctuation, articles a/an/the become " ", then
// " ".join(split()).
std::string squad_normalize(std::string_view s);
// compute_exact / compute_f1 (0/1 and [0, 1]): F1 over the multiset of normalised tokens;
// when either side has no tokens, 1 if both have none, else 0.
double squad_exact(std::string_view gold, std::string_view pred);
double squad_f1(std::string_view gold, std::string_view pred);

// One question as lm-eval's SQuAD2.process_results hands it to evaluate's squad_v2.
struct SquadV2Item {
  std::string id;
  std::string prediction;  // prediction_text (the raw generation)
  double no_answer_probability = 0.0;
  std::vector<std::string> answers;  // answers.text (empty = unanswerable)
};
// evaluate's squad_v2 compute() with no_answer_threshold 1.0, over all items (keyed by id as
// the script's dicts are: a repeated id keeps its first position and its last value). Keys:
// exact, f1, total, HasAns_* and NoAns_* (only when such questions exist), best_exact,
// best_exact_thresh, best_f1, best_f1_thresh. Values on a 0-100 scale (totals are counts).
std::map<std::string, double> squad_v2_evaluate(const std::vector<SquadV2Item>& items);

// ------------------------------------------------------------------------------ DROP
// Python float(text): nullopt when Python raises ValueError. Accepts surrounding Unicode
// whitespace, a sign, digits with single underscores between them, '.', an exponent,
// inf/infinity/nan in any case, and any Unicode decimal digit.
std::optional<double> py_float(std::string_view text);
// drop/utils.py _normalize: split on ' ' or '-', per token lower, punctuation removal (unless
// the token is a number), numbers as str(float), articles removed; blank tokens dropped.
std::string drop_normalize(std::string_view answer);
struct DropScore {
  double em = 0.0;
  double f1 = 0.0;  // rounded to 2 decimals as numpy does (half to even)
};
// drop/utils.py get_metrics(predicted spans, gold spans).
DropScore drop_metrics(const std::vector<std::string>& predicted,
                       const std::vector<std::string>& gold);
// The largest total of scores[r][c] over one-to-one assignments of rows to columns
// (rectangular allowed: min(rows, cols) pairs), and for each row the score it was assigned
// (0 when none). Hungarian method, O(n^3).
std::vector<double> max_assignment(const std::vector<std::vector<double>>& scores);

// ------------------------------------------------------------------------------ CoQA
// coqa/utils.py compute_scores: with several golds, each gold is left out in turn and the
// prediction scored against the best of the rest; the mean of those. em and f1 in [0, 1].
struct CoqaScore {
  double em = 0.0;
  double f1 = 0.0;
};
CoqaScore coqa_scores(const std::vector<std::string>& golds, const std::string& pred);

}  // namespace retort::scoring
