// Internal: ROUGE as Google's rouge-score package computes it with RougeScorer(["rouge1",
// "rouge2", "rougeLsum"]) and its defaults (no stemming, the default tokenizer), which
// lm-eval's truthfulqa/utils.py rouge() calls. F-measures in [0, 1].
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace retort::scoring {

// rouge_score tokenize: lower(), every run of characters outside [a-z0-9] becomes a space,
// tokens are what remains.
std::vector<std::string> rouge_tokenize(std::string_view text);

struct RougeScores {
  double rouge1 = 0.0;
  double rouge2 = 0.0;
  double rougeLsum = 0.0;  // summary-level LCS over "\n"-separated sentences (union LCS)
};
// RougeScorer.score(target, prediction), the fmeasure of each type.
RougeScores rouge_scores(const std::string& target, const std::string& prediction);

}  // namespace retort::scoring
