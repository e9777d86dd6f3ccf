// Internal: sacrebleu's corpus BLEU as lm-eval calls it (sacrebleu.corpus_bleu with its
// defaults: 13a tokenization, exp smoothing, no lowercasing, n-grams up to 4, closest
// reference length). Per-segment sufficient statistics are kept so that the bootstrap can
// re-sum them per replicate without re-tokenizing.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace retort::scoring {

// sacrebleu's Tokenizer13a (mteval-v13a): the language-independent replacements, then
// punctuation split, then whitespace normalisation.
std::string tokenize_13a(std::string_view line);

struct BleuStats {
  double hyp_len = 0, ref_len = 0;
  std::array<double, 4> correct{}, total{};
  BleuStats& operator+=(const BleuStats& o);
};

// Statistics of one hypothesis against its references (each reference stream's segment).
BleuStats bleu_segment_stats(const std::string& hypothesis, const std::vector<std::string>& refs);
// BLEU.compute_bleu with smooth_method="exp" on summed statistics; a score in [0, 100].
double bleu_score(const BleuStats& s);

}  // namespace retort::scoring
