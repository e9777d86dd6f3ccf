#include "scoring/bleu.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "scoring/reading_metrics.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"

namespace retort::scoring {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

using NgramCounts = std::map<std::string, double>;

// All n-grams of orders 1..4 of whitespace tokens, keyed by "n\x1ftok tok ...".
NgramCounts ngrams(const std::vector<std::string>& toks) {
  NgramCounts out;
  for (size_t n = 1; n <= 4; n++) {
    for (size_t i = 0; i + n <= toks.size(); i++) {
      std::string key(1, static_cast<char>('0' + n));
      for (size_t k = 0; k < n; k++) {
        key += '\x1f';
        key += toks[i + k];
      }
      out[key] += 1;
    }
  }
  return out;
}

std::string preprocess(const std::string& s, BleuTokenizer tokenizer) {
  return tokenizer == BleuTokenizer::kIntl ? tokenize_intl(py_rstrip(s))
                                           : tokenize_13a(py_rstrip(s));
}

}  // namespace

std::string tokenize_13a(std::string_view in) {
  std::string line(in);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line = " " + line + " ";
  line = py_re_sub(R"(([\{-\~\[-\` -\&\(-\+\:-\@\/]))", R"( \1 )", line);
  line = py_re_sub(R"(([^0-9])([\.,]))", R"(\1 \2 )", line);
  line = py_re_sub(R"(([\.,])([^0-9]))", R"( \1 \2)", line);
  line = py_re_sub(R"(([0-9])(-))", R"(\1 \2 )", line);
  std::string out;
  for (const std::string& tok : py_split_whitespace(line)) {
    if (!out.empty()) out += ' ';
    out += tok;
  }
  return out;
}

std::string tokenize_intl(std::string_view in) {
  std::string line = py_re_sub(R"((\P{N})(\p{P}))", R"(\1 \2 )", in);
  line = py_re_sub(R"((\p{P})(\P{N}))", R"( \1 \2)", line);
  line = py_re_sub(R"((\p{S}))", R"( \1 )", line);
  std::string out;
  for (const std::string& tok : py_split_whitespace(line)) {
    if (!out.empty()) out += ' ';
    out += tok;
  }
  return out;
}

BleuStats& BleuStats::operator+=(const BleuStats& o) {
  hyp_len += o.hyp_len;
  ref_len += o.ref_len;
  for (int i = 0; i < 4; i++) {
    correct[i] += o.correct[i];
    total[i] += o.total[i];
  }
  return *this;
}

BleuStats bleu_segment_stats(const std::string& hypothesis, const std::vector<std::string>& refs,
                             BleuTokenizer tokenizer) {
  BleuStats st;
  const auto hyp_toks = py_split_whitespace(preprocess(hypothesis, tokenizer));
  st.hyp_len = static_cast<double>(hyp_toks.size());
  NgramCounts ref_max;
  bool have_len = false;
  double closest_diff = 0, closest_len = 0;
  for (const std::string& ref : refs) {
    const auto toks = py_split_whitespace(preprocess(ref, tokenizer));
    const double len = static_cast<double>(toks.size());
    const double diff = std::fabs(st.hyp_len - len);
    if (!have_len || diff < closest_diff || (diff == closest_diff && len < closest_len)) {
      closest_diff = diff;
      closest_len = len;
      have_len = true;
    }
    for (const auto& [gram, count] : ngrams(toks)) {
      double& m = ref_max[gram];
      if (count > m) m = count;
    }
  }
  st.ref_len = closest_len;
  for (const auto& [gram, count] : ngrams(hyp_toks)) {
    const int order = gram[0] - '1';
    st.total[order] += count;
    auto it = ref_max.find(gram);
    if (it != ref_max.end()) st.correct[order] += std::min(count, it->second);
  }
  return st;
}

double bleu_score(const BleuStats& s) {
  // "Early stop if there are no matches (#141)" (sacrebleu metrics/bleu.py compute_bleu).
  if (s.correct[0] == 0 && s.correct[1] == 0 && s.correct[2] == 0 && s.correct[3] == 0) return 0.0;
  double precisions[4] = {0, 0, 0, 0};
  double smooth_mteval = 1.0;
  for (int n = 0; n < 4; n++) {
    if (s.total[n] == 0) break;
    if (s.correct[n] == 0) {
      smooth_mteval *= 2;
      precisions[n] = 100.0 / (smooth_mteval * s.total[n]);
    } else {
      precisions[n] = 100.0 * s.correct[n] / s.total[n];
    }
  }
  double bp = 1.0;
  if (s.hyp_len < s.ref_len) bp = s.hyp_len > 0 ? std::exp(1 - s.ref_len / s.hyp_len) : 0.0;
  double logs[4];
  for (int n = 0; n < 4; n++)
    logs[n] = precisions[n] == 0.0 ? -9999999999.0 : std::log(precisions[n]);
  // Python sum() of four floats; compensated as in CPython >= 3.12.
  double sum = 0.0, c = 0.0;
  for (double x : logs) {
    const double t = sum + x;
    c += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  if (c != 0.0 && std::isfinite(c)) sum += c;
  return bp * std::exp(sum / 4);
}

namespace {

using CharNgrams = std::array<std::unordered_map<std::string, double>, 6>;

CharNgrams char_ngrams(const std::string& line) {
  // ''.join(line.split()), then every substring of 1..6 code points.
  std::vector<std::string> cps;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = pos;
    char32_t cp = decode_utf8(line, pos);
    if (!py_isspace(cp)) cps.emplace_back(line.substr(start, pos - start));
  }
  CharNgrams out;
  for (size_t n = 1; n <= 6; n++) {
    for (size_t i = 0; i + n <= cps.size(); i++) {
      std::string key;
      for (size_t k = 0; k < n; k++) key += cps[i + k];
      out[n - 1][key] += 1;
    }
  }
  return out;
}

}  // namespace

ChrfStats chrf_segment_stats(const std::string& hypothesis, const std::vector<std::string>& refs) {
  const CharNgrams hyp = char_ngrams(hypothesis);
  ChrfStats best{};
  double best_f = -1.0;
  for (const std::string& ref_text : refs) {
    const CharNgrams ref = char_ngrams(ref_text);
    ChrfStats st{};
    for (size_t n = 0; n < 6; n++) {
      double hyp_count = 0, ref_count = 0, match = 0;
      for (const auto& [gram, c] : hyp[n]) {
        hyp_count += c;
        auto it = ref[n].find(gram);
        if (it != ref[n].end()) match += std::min(c, it->second);
      }
      for (const auto& [gram, c] : ref[n]) ref_count += c;
      st[3 * n] = hyp_count;
      st[3 * n + 1] = ref_count;
      st[3 * n + 2] = match;
    }
    const double f = chrf_score(st);
    if (f > best_f) {
      best_f = f;
      best = st;
    }
  }
  return best;
}

double chrf_score(const ChrfStats& s) {
  constexpr double kEps = 1e-16;
  constexpr double kFactor = 4.0;  // beta ** 2
  double avg_prec = 0, avg_rec = 0;
  int effective_order = 0;
  for (int i = 0; i < 6; i++) {
    const double n_hyp = s[3 * i], n_ref = s[3 * i + 1], n_match = s[3 * i + 2];
    const double prec = n_hyp > 0 ? n_match / n_hyp : kEps;
    const double rec = n_ref > 0 ? n_match / n_ref : kEps;
    effective_order += n_hyp > 0 && n_ref > 0 ? 1 : 0;
    avg_prec += prec;
    avg_rec += rec;
  }
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec == 0.0) return 0.0;
  double score = (1 + kFactor) * avg_prec * avg_rec;
  score /= (kFactor * avg_prec) + avg_rec;
  return 100 * score;
}

}  // namespace retort::scoring
