// The extractor of the generative multiple-choice formulation (docs/tasks.md, "Generative
// multiple choice"): which choice letter a free-text reply names.
#include <algorithm>

#include "scoring/scoring.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

bool letter_in_range(const std::string& l, size_t n) {
  return l.size() == 1 && l[0] >= 'A' && l[0] < static_cast<char>('A' + std::min<size_t>(n, 26));
}

// Lower-cased, stripped, one trailing period and surrounding ** / quotes removed.
std::string norm_choice(std::string s) {
  s = to_lower(py_strip(s));
  while (!s.empty() && (s.back() == '.' || s.back() == '*' || s.back() == '"')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == '*' || s[b] == '"')) ++b;
  return py_strip(s.substr(b));
}

}  // namespace

std::string extract_choice_letter(const std::string& reply,
                                  const std::vector<std::string>& choices) {
  const size_t n = choices.size();
  // 1. "answer is (B)", "Answer: B", "answer: **B**": the last such statement wins.
  auto stated = py_re_findall(
      R"((?:[Aa]nswer|ANSWER)(?:\s+is)?\s*[:：]?\s*(?:\*\*)?\s*\(?([A-Z])\)?(?![A-Za-z0-9]))",
      reply);
  for (auto it = stated.rbegin(); it != stated.rend(); ++it)
    if (letter_in_range(it->get<std::string>(), n)) return it->get<std::string>();
  // 2. The reply is the letter ("B", "(B)", "B.", "**B**"), or starts with it marked as a
  // letter ("B. text", "(B) text", "B) text", "B: text"); a bare "A ..." / "I ..." is a word.
  if (auto m = py_re_search(R"(^\s*\**\s*\(?([A-Z])\)?[.:]?\**\s*$)", reply))
    if (letter_in_range(m->group_or_empty(1), n)) return m->group_or_empty(1);
  if (auto m = py_re_search(R"(^\s*\**\s*(?:\(([A-Z])\)|([A-Z])[.):\]]))", reply)) {
    std::string l = m->group_or_empty(1).empty() ? m->group_or_empty(2) : m->group_or_empty(1);
    if (letter_in_range(l, n)) return l;
  }
  // 3. The reply is one choice's text (case, surrounding space and a final period aside).
  const std::string r = norm_choice(reply);
  if (!r.empty())
    for (size_t i = 0; i < n && i < 26; ++i)
      if (norm_choice(choices[i]) == r) return std::string(1, static_cast<char>('A' + i));
  return "";
}

}  // namespace retort
