// Internal: sacrebleu's corpus BLEU and chrF as lm-eval calls them (sacrebleu.corpus_bleu with its
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
// sacrebleu's TokenizerV14International (tokenize="intl", tokenizers/tokenizer_intl.py):
// punctuation (\p{P}) split from non-digits on either side, symbols (\p{S}) set apart, then
// whitespace normalised.
std::string tokenize_intl(std::string_view line);
enum class BleuTokenizer { k13a, kIntl };

struct BleuStats {
  double hyp_len = 0, ref_len = 0;
  std::array<double, 4> correct{}, total{};
  BleuStats& operator+=(const BleuStats& o);
};

// Statistics of one hypothesis against its references (each reference stream's segment).
BleuStats bleu_segment_stats(const std::string& hypothesis, const std::vector<std::string>& refs,
                             BleuTokenizer tokenizer = BleuTokenizer::k13a);
// BLEU.compute_bleu with smooth_method="exp" on summed statistics; a score in [0, 100], 0
// when no n-gram of any order matches (sacrebleu's early stop, metrics/bleu.py).
double bleu_score(const BleuStats& s);

// sacrebleu.corpus_chrf defaults: character n-grams 1..6 with whitespace removed, no word
// n-grams, beta 2, no eps smoothing. Per order: [hyp n-grams, ref n-grams, matches].
using ChrfStats = std::array<double, 18>;
// Statistics against the reference with the best segment chrF (first one on ties).
ChrfStats chrf_segment_stats(const std::string& hypothesis, const std::vector<std::string>& refs);
// CHRF._compute_f_score on summed statistics; a score in [0, 100].
double chrf_score(const ChrfStats& s);

}  // namespace retort::scoring
