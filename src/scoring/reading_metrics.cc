#include "scoring/reading_metrics.h"

#include <locale.h>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <unordered_map>

#include <utf8proc.h>

#include "scoring/stats.h"
#include "scoring/text.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"

namespace retort::scoring {

std::vector<std::string> py_split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    char32_t cp = decode_utf8(s, pos);
    if (py_isspace(cp)) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur.append(s.substr(start, pos - start));
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

namespace {

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += ' ';
    out += words[i];
  }
  return out;
}

// re.sub(r"\b(a|an|the)\b", " ", s) with re.UNICODE (the SQuAD script and drop/utils.py L7).
std::string remove_articles(std::string_view s) {
  return py_re_sub(R"(\b(a|an|the)\b)", " ", s);
}

// Counter(a) & Counter(b), summed.
size_t multiset_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::unordered_map<std::string, int64_t> count;
  for (const auto& t : a) ++count[t];
  size_t same = 0;
  for (const auto& t : b) {
    auto it = count.find(t);
    if (it != count.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  return same;
}

}  // namespace

// ----------------------------------------------------------------------------- SQuAD
// The official SQuAD 2.0 evaluation script (evaluate-v2.0.py; HF evaluate metrics/squad_v2,
// transformers/data/metrics/squad_metrics.py): normalize_answer, compute_exact, compute_f1.

std::string squad_normalize(std::string_view s) {
  return join_words(py_split_whitespace(remove_articles(remove_ascii_punctuation(py_lower(s)))));
}

double squad_exact(std::string_view gold, std::string_view pred) {
  return squad_normalize(gold) == squad_normalize(pred) ? 1.0 : 0.0;
}

double squad_f1(std::string_view gold, std::string_view pred) {
  std::vector<std::string> g = py_split_whitespace(squad_normalize(gold));
  std::vector<std::string> p = py_split_whitespace(squad_normalize(pred));
  if (g.empty() || p.empty()) return g == p ? 1.0 : 0.0;
  const size_t same = multiset_overlap(g, p);
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(p.size());
  const double recall = static_cast<double>(same) / static_cast<double>(g.size());
  return (2 * precision * recall) / (precision + recall);
}

std::map<std::string, double> squad_v2_evaluate(const std::vector<SquadV2Item>& items) {
  // The script's dicts: one entry per id in first-seen order, holding the last values.
  struct Question {
    bool has_ans = false;
    std::string prediction;
    double na_prob = 0.0;
    double exact = 0.0, f1 = 0.0;  // raw scores
  };
  std::vector<std::string> order;
  std::unordered_map<std::string, Question> q;
  for (const auto& it : items) {
    auto [pos, fresh] = q.try_emplace(it.id);
    if (fresh) order.push_back(it.id);
    Question& x = pos->second;
    x.has_ans = !it.answers.empty();
    x.prediction = it.prediction;
    // evaluate declares no_answer_probability as float32: the value round-trips through it.
    x.na_prob = static_cast<double>(static_cast<float>(it.no_answer_probability));
    std::vector<std::string> golds;
    for (const auto& a : it.answers)
      if (!squad_normalize(a).empty()) golds.push_back(a);
    if (golds.empty()) golds.push_back("");
    x.exact = 0.0;
    x.f1 = 0.0;
    for (const auto& g : golds) {
      x.exact = std::max(x.exact, squad_exact(g, it.prediction));
      x.f1 = std::max(x.f1, squad_f1(g, it.prediction));
    }
  }
  // apply_no_ans_threshold with threshold 1.0: a question predicted unanswerable (na_prob
  // above it) scores 1 when it is unanswerable, else 0.
  const double kThreshold = 1.0;
  auto thresholded = [&](const Question& x, double raw) {
    if (x.na_prob > kThreshold) return x.has_ans ? 0.0 : 1.0;
    return raw;
  };
  std::map<std::string, double> out;
  auto eval_over = [&](const std::vector<const Question*>& qs, const std::string& prefix) {
    double e = 0.0, f = 0.0;
    for (const Question* x : qs) {
      e += thresholded(*x, x->exact);
      f += thresholded(*x, x->f1);
    }
    const double n = static_cast<double>(qs.size());
    out[prefix + "exact"] = 100.0 * e / n;
    out[prefix + "f1"] = 100.0 * f / n;
    out[prefix + "total"] = n;
  };
  std::vector<const Question*> all, has, no;
  for (const auto& id : order) {
    const Question* x = &q.at(id);
    all.push_back(x);
    (x->has_ans ? has : no).push_back(x);
  }
  if (all.empty()) return out;
  eval_over(all, "");
  if (!has.empty()) eval_over(has, "HasAns_");
  if (!no.empty()) eval_over(no, "NoAns_");
  // find_best_thresh: questions in (stable) order of na_prob; answering every question up to
  // a threshold gains its raw score (answerable) or loses 1 for a non-empty prediction
  // (unanswerable), starting from abstaining everywhere (= the unanswerable count).
  std::vector<const Question*> sorted = all;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Question* a, const Question* b) { return a->na_prob < b->na_prob; });
  auto best = [&](bool use_f1, const std::string& key) {
    double cur = static_cast<double>(no.size());
    double best_score = cur, best_thresh = 0.0;
    for (const Question* x : sorted) {
      double diff = x->has_ans ? (use_f1 ? x->f1 : x->exact) : (x->prediction.empty() ? 0.0 : -1.0);
      cur += diff;
      if (cur > best_score) {
        best_score = cur;
        best_thresh = x->na_prob;
      }
    }
    out[key] = 100.0 * best_score / static_cast<double>(all.size());
    out[key + "_thresh"] = best_thresh;
  };
  best(false, "best_exact");
  best(true, "best_f1");
  return out;
}

// ------------------------------------------------------------------------------ DROP

namespace {

// The value of a Unicode decimal digit (category Nd): such digits come in runs of ten,
// 0 to 9, so the value is the distance to the run's start modulo 10.
std::optional<int> decimal_digit(char32_t cp) {
  auto nd = [](char32_t c) {
    return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND;
  };
  if (!nd(cp)) return std::nullopt;
  int k = 0;
  while (cp - static_cast<char32_t>(k) > 0 && nd(cp - static_cast<char32_t>(k) - 1)) ++k;
  return k % 10;
}

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<double> py_float(std::string_view text) {
  // _PyUnicode_TransformDecimalAndSpaceToASCII: whitespace -> ' ', decimal digits -> ASCII;
  // any other non-ASCII character makes the string invalid.
  std::string s;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = decode_utf8(text, pos);
    if (py_isspace(cp)) {
      s += ' ';
    } else if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (auto d = decimal_digit(cp)) {
      s += static_cast<char>('0' + *d);
    } else {
      return std::nullopt;
    }
  }
  size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  if (a == std::string::npos) return std::nullopt;
  s = s.substr(a, b - a + 1);
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  std::string rest;
  for (size_t k = i; k < s.size(); ++k)
    rest += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  if (rest == "inf" || rest == "infinity")
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  if (rest == "nan") return std::numeric_limits<double>::quiet_NaN();
  // digitpart ["." [digitpart]] [exponent] | "." digitpart [exponent], where a digitpart's
  // underscores sit between digits.
  std::string clean = negative ? "-" : "";
  auto digitpart = [&](size_t& k) {
    size_t start = k;
    while (k < rest.size()) {
      if (is_ascii_digit(rest[k])) {
        clean += rest[k++];
      } else if (rest[k] == '_' && k > start && k + 1 < rest.size() &&
                 is_ascii_digit(rest[k + 1]) && is_ascii_digit(rest[k - 1])) {
        ++k;
      } else {
        break;
      }
    }
    return k > start;
  };
  size_t k = 0;
  bool whole = digitpart(k), frac = false;
  if (k < rest.size() && rest[k] == '.') {
    clean += rest[k++];
    frac = digitpart(k);
  }
  if (!whole && !frac) return std::nullopt;
  if (k < rest.size() && rest[k] == 'e') {
    clean += rest[k++];
    if (k < rest.size() && (rest[k] == '+' || rest[k] == '-')) clean += rest[k++];
    if (!digitpart(k)) return std::nullopt;
  }
  if (k != rest.size()) return std::nullopt;
  static locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return strtod_l(clean.c_str(), nullptr, c_locale);
}

std::string drop_normalize(std::string_view answer) {
  // _tokenize: re.split(" |-", text).
  std::vector<std::string> pieces(1);
  for (char c : answer) {
    if (c == ' ' || c == '-')
      pieces.emplace_back();
    else
      pieces.back() += c;
  }
  std::vector<std::string> tokens;
  for (const auto& piece : pieces) {
    std::string t = py_lower(piece);
    if (!py_float(t)) t = remove_ascii_punctuation(t);  // _remove_punc
    if (auto v = py_float(t)) t = py_float_repr(*v);    // _fix_number
    t = join_words(py_split_whitespace(remove_articles(t)));
    if (!py_strip(t).empty()) tokens.push_back(t);
  }
  return py_strip(join_words(tokens));
}

std::vector<double> max_assignment(const std::vector<std::vector<double>>& scores) {
  const size_t rows = scores.size();
  const size_t cols = rows ? scores[0].size() : 0;
  std::vector<double> out(rows, 0.0);
  if (rows == 0 || cols == 0) return out;
  // Hungarian method (potentials, shortest augmenting paths) minimising cost = -score over
  // an n x m matrix with n <= m; transpose when there are more rows than columns.
  const bool transpose = rows > cols;
  const size_t n = transpose ? cols : rows, m = transpose ? rows : cols;
  auto cost = [&](size_t i, size_t j) {  // 1-based
    return transpose ? -scores[j - 1][i - 1] : -scores[i - 1][j - 1];
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<size_t> p(m + 1, 0), way(m + 1, 0);
  for (size_t i = 1; i <= n; ++i) {
    p[0] = i;
    size_t j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<bool> used(m + 1, false);
    do {
      used[j0] = true;
      const size_t i0 = p[j0];
      double delta = inf;
      size_t j1 = 0;
      for (size_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = cost(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (size_t j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  for (size_t j = 1; j <= m; ++j) {
    if (p[j] == 0) continue;
    const size_t r = transpose ? j - 1 : p[j] - 1;
    const size_t c = transpose ? p[j] - 1 : j - 1;
    out[r] = std::max(out[r], scores[r][c]);
  }
  return out;
}

namespace {

using Bag = std::set<std::string>;

// _compute_f1 on token sets: an empty side counts as precision (or recall) 1.
double bag_f1(const Bag& predicted, const Bag& gold) {
  size_t inter = 0;
  for (const auto& t : gold) inter += predicted.count(t);
  const double precision =
      predicted.empty() ? 1.0 : static_cast<double>(inter) / static_cast<double>(predicted.size());
  const double recall =
      gold.empty() ? 1.0 : static_cast<double>(inter) / static_cast<double>(gold.size());
  if (precision == 0.0 && recall == 0.0) return 0.0;
  return (2 * precision * recall) / (precision + recall);
}

// _match_numbers_if_present: no number in the gold bag, or one shared with the prediction.
bool numbers_match(const Bag& gold, const Bag& predicted) {
  bool gold_has = false;
  for (const auto& w : gold) {
    if (!py_float(w)) continue;
    gold_has = true;
    if (predicted.count(w)) return true;
  }
  return !gold_has;
}

}  // namespace

DropScore drop_metrics(const std::vector<std::string>& predicted,
                       const std::vector<std::string>& gold) {
  auto bags = [](const std::vector<std::string>& spans, std::vector<std::string>& normalized,
                 std::vector<Bag>& out) {
    for (const auto& s : spans) {
      normalized.push_back(drop_normalize(s));
      auto words = py_split_whitespace(normalized.back());
      out.emplace_back(words.begin(), words.end());
    }
  };
  std::vector<std::string> pn, gn;
  std::vector<Bag> pb, gb;
  bags(predicted, pn, pb);
  bags(gold, gn, gb);
  DropScore out;
  out.em =
      std::set<std::string>(pn.begin(), pn.end()) == std::set<std::string>(gn.begin(), gn.end()) &&
              pn.size() == gn.size()
          ? 1.0
          : 0.0;
  std::vector<std::vector<double>> scores(gb.size(), std::vector<double>(pb.size(), 0.0));
  for (size_t g = 0; g < gb.size(); ++g)
    for (size_t p = 0; p < pb.size(); ++p)
      if (numbers_match(gb[g], pb[p])) scores[g][p] = bag_f1(pb[p], gb[g]);
  std::vector<double> best = max_assignment(scores);
  best.resize(std::max(gb.size(), pb.size()), 0.0);
  if (best.empty()) return out;
  const double mean = numpy_sum(best.data(), best.size()) / static_cast<double>(best.size());
  // round(np.float64, 2): rint(x * 100) / 100, ties to even.
  out.f1 = std::nearbyint(mean * 100.0) / 100.0;
  return out;
}

// ------------------------------------------------------------------------------ CoQA

CoqaScore coqa_scores(const std::vector<std::string>& golds, const std::string& pred) {
  CoqaScore out;
  if (golds.empty()) return out;
  double em_sum = 0.0, f1_sum = 0.0;
  auto best_of = [&](size_t skip) {
    double e = 0.0, f = 0.0;
    bool first = true;
    for (size_t i = 0; i < golds.size(); ++i) {
      if (i == skip) continue;
      const double ei = squad_exact(golds[i], pred), fi = squad_f1(golds[i], pred);
      e = first ? ei : std::max(e, ei);
      f = first ? fi : std::max(f, fi);
      first = false;
    }
    em_sum += e;
    f1_sum += f;
  };
  if (golds.size() > 1) {
    for (size_t i = 0; i < golds.size(); ++i) best_of(i);
  } else {
    best_of(golds.size());
  }
  out.em = em_sum / static_cast<double>(golds.size());
  out.f1 = f1_sum / static_cast<double>(golds.size());
  return out;
}

}  // namespace retort::scoring
