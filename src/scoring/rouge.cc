// rouge_score (google-research/rouge, rouge_scorer.py and tokenize.py): n-gram overlap
// F-measure for rouge1/rouge2 and the summary-level union-LCS of rougeLsum. Written from its
// documented behaviour; the code is ours.
#include "scoring/rouge.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>

#include "scoring/text.h"

namespace retort::scoring {

std::vector<std::string> rouge_tokenize(std::string_view text) {
  // Non-ASCII bytes are never in [a-z0-9], so a byte-wise scan of the lowered UTF-8 text
  // finds the same runs as the pattern over code points.
  const std::string low = py_lower(text);
  std::vector<std::string> out;
  std::string cur;
  for (char c : low) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

namespace {

double fmeasure(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

using Ngrams = std::map<std::vector<std::string>, int64_t>;

Ngrams ngrams(const std::vector<std::string>& toks, size_t n) {
  Ngrams out;
  for (size_t i = 0; i + n <= toks.size(); ++i)
    ++out[std::vector<std::string>(toks.begin() + static_cast<std::ptrdiff_t>(i),
                                   toks.begin() + static_cast<std::ptrdiff_t>(i + n))];
  return out;
}

// _score_ngrams: clipped overlap over max(count, 1) on each side.
double score_ngrams(const Ngrams& target, const Ngrams& prediction) {
  int64_t overlap = 0, t = 0, p = 0;
  for (const auto& [g, c] : target) {
    t += c;
    auto it = prediction.find(g);
    if (it != prediction.end()) overlap += std::min(c, it->second);
  }
  for (const auto& [g, c] : prediction) p += c;
  const double precision =
      static_cast<double>(overlap) / static_cast<double>(std::max<int64_t>(p, 1));
  const double recall = static_cast<double>(overlap) / static_cast<double>(std::max<int64_t>(t, 1));
  return fmeasure(precision, recall);
}

// Indices into ref of one LCS of ref and can (_lcs_table + _backtrack_norec).
std::vector<size_t> lcs_indices(const std::vector<std::string>& ref,
                                const std::vector<std::string>& can) {
  const size_t rows = ref.size(), cols = can.size();
  std::vector<std::vector<int>> t(rows + 1, std::vector<int>(cols + 1, 0));
  for (size_t i = 1; i <= rows; ++i)
    for (size_t j = 1; j <= cols; ++j)
      t[i][j] = ref[i - 1] == can[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  std::vector<size_t> out;
  size_t i = rows, j = cols;
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      out.push_back(i - 1);
      --i;
      --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::vector<std::string>> sentences(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start)
      out.push_back(rouge_tokenize(std::string_view(text).substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// _summary_level_lcs: each reference sentence's union LCS with the candidate sentences,
// every token hit counted at most as often as it occurs on both sides.
double summary_lcs(const std::vector<std::vector<std::string>>& ref,
                   const std::vector<std::vector<std::string>>& can) {
  if (ref.empty() || can.empty()) return 0.0;
  size_t m = 0, n = 0;
  std::map<std::string, int64_t> ref_counts, can_counts;
  for (const auto& s : ref) {
    m += s.size();
    for (const auto& t : s) ++ref_counts[t];
  }
  for (const auto& s : can) {
    n += s.size();
    for (const auto& t : s) ++can_counts[t];
  }
  if (m == 0 || n == 0) return 0.0;
  int64_t hits = 0;
  for (const auto& r : ref) {
    std::set<size_t> united;
    for (const auto& c : can)
      for (size_t i : lcs_indices(r, c)) united.insert(i);
    for (size_t i : united) {
      const std::string& tok = r[i];
      if (can_counts[tok] > 0 && ref_counts[tok] > 0) {
        ++hits;
        --can_counts[tok];
        --ref_counts[tok];
      }
    }
  }
  const double recall = static_cast<double>(hits) / static_cast<double>(m);
  const double precision = static_cast<double>(hits) / static_cast<double>(n);
  return fmeasure(precision, recall);
}

}  // namespace

RougeScores rouge_scores(const std::string& target, const std::string& prediction) {
  RougeScores out;
  const auto t = rouge_tokenize(target), p = rouge_tokenize(prediction);
  out.rouge1 = score_ngrams(ngrams(t, 1), ngrams(p, 1));
  out.rouge2 = score_ngrams(ngrams(t, 2), ngrams(p, 2));
  out.rougeLsum = summary_lcs(sentences(target), sentences(prediction));
  return out;
}

}  // namespace retort::scoring
