// Answer extraction from replies, and lm-eval's hendrycks_math string rules.
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "scoring/math_equiv.h"
#include "scoring/math_expr.h"
#include "util/latex_boxed.h"

namespace retort::math {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The argument of the command starting at `pos` (e.g. "\boxed"), through its matching brace.
// Returns nullopt when the braces never balance.
std::optional<std::string> braced_argument(std::string_view s, size_t pos, size_t cmd_len) {
  size_t i = pos + cmd_len;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size()) return std::nullopt;
  if (s[i] != '{') {
    // "\boxed 5" / "\boxed5": one token up to a '$', newline or end of sentence.
    size_t j = i;
    while (j < s.size() && s[j] != '$' && s[j] != '\n' &&
           !(s[j] == '.' && (j + 1 == s.size() || s[j + 1] == ' ')))
      ++j;
    if (j == i) return std::nullopt;
    return trim(s.substr(i, j - i));
  }
  int depth = 0;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] == '\\' && j + 1 < s.size() && (s[j + 1] == '{' || s[j + 1] == '}')) {
      ++j;  // an escaped brace (\{ \}) is content, not structure
      continue;
    }
    if (s[j] == '{') ++depth;
    if (s[j] == '}' && --depth == 0) return std::string(s.substr(i + 1, j - i - 1));
  }
  return std::nullopt;
}

// Start of the last occurrence of `cmd` not followed by a letter (so \boxed, not \boxedx).
size_t last_command(std::string_view s, std::string_view cmd) {
  size_t pos = s.rfind(cmd);
  while (pos != std::string_view::npos) {
    size_t after = pos + cmd.size();
    if (after >= s.size() || !std::isalpha(static_cast<unsigned char>(s[after]))) return pos;
    if (pos == 0) break;
    pos = s.rfind(cmd, pos - 1);
  }
  return std::string_view::npos;
}

// The answer after a phrase such as "the answer is": the first $...$ math span when the
// rest of the line starts with one, else the rest of the sentence.
std::string answer_after_phrase(std::string_view s) {
  size_t nl = s.find('\n');
  std::string line = trim(s.substr(0, nl));
  // Markdown emphasis and a colon often sit between the phrase and the answer.
  while (!line.empty() && (line[0] == ':' || line[0] == '*' || line[0] == ' ')) line.erase(0, 1);
  if (line.rfind("\\[", 0) == 0 || line.rfind("\\(", 0) == 0) {
    size_t end = line.find(line[1] == '[' ? "\\]" : "\\)", 2);
    return trim(line.substr(2, end == std::string::npos ? std::string::npos : end - 2));
  }
  if (!line.empty() && line[0] == '$') {
    size_t start = line.rfind("$$", 0) == 0 ? 2 : 1;
    size_t end = line.find('$', start);
    return trim(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  // The sentence ends at ". " or at a final "."; "I hope it is correct" (Minerva) is not
  // part of the answer.
  size_t hope = lower(line).find("i hope it is correct");
  if (hope != std::string::npos) line = trim(line.substr(0, hope));
  for (size_t i = 0; i + 1 < line.size(); ++i)
    if (line[i] == '.' && line[i + 1] == ' ') {
      line = line.substr(0, i);
      break;
    }
  while (!line.empty() && (line.back() == '.' || line.back() == '*' || line.back() == ' '))
    line.pop_back();
  if (line.size() >= 2 && line.front() == '$' && line.back() == '$')
    line = trim(std::string_view(line).substr(1, line.size() - 2));
  return line;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The last number in the text: an optional minus, digits with thousands commas, an optional
// decimal part, and an optional "/digits" (a plain fraction).
std::optional<std::string> last_number(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    --i;
    if (!is_digit(s[i])) continue;
    size_t end = i + 1;
    size_t b = i;
    while (b > 0 && (is_digit(s[b - 1]) || s[b - 1] == '.' || s[b - 1] == '/' ||
                     (s[b - 1] == ',' && b >= 2 && is_digit(s[b - 2]) && end - b >= 3)))
      --b;
    while (b < end && !is_digit(s[b])) ++b;  // no leading '.', ',' or '/'
    if (b > 0 && s[b - 1] == '-') --b;
    std::string num(s.substr(b, end - b));
    while (!num.empty() && (num.back() == '.' || num.back() == '/')) num.pop_back();
    return num;
  }
  return std::nullopt;
}

// A reply that is nothing but an answer ("\\frac{1}{2}", "x = 5", "(1, 2)"): one line, not a
// sentence (fewer than two plain words), and readable as mathematics.
bool is_bare_answer(std::string_view text) {
  std::string t = trim(text);
  if (t.empty() || t.size() > 200 || t.find('\n') != std::string::npos) return false;
  int words = 0;
  size_t i = 0;
  while (i < t.size()) {
    while (i < t.size() && t[i] == ' ') ++i;
    size_t j = i;
    bool alpha = true;
    while (j < t.size() && t[j] != ' ') {
      if (!std::isalpha(static_cast<unsigned char>(t[j]))) alpha = false;
      ++j;
    }
    if (alpha && j - i >= 2) ++words;
    i = j;
  }
  if (words >= 2) return false;
  try {
    detail::NodeP n = detail::parse(detail::normalize(t));
    return n->k != detail::K::kText;
  } catch (const detail::ParseError&) {
    return false;
  }
}

// The last inline math span, $...$ or \\(...\\), when it reads as mathematics: "We get
// $\\frac{1}{2}$." answers 1/2, not 2.
std::optional<std::string> last_math_span(std::string_view text) {
  std::string t(text);
  std::optional<std::string> best;
  size_t best_end = 0;
  size_t close = t.rfind('$');
  if (close != std::string::npos && close > 0) {
    size_t open = t.rfind('$', close - 1);
    if (open != std::string::npos) {
      best = t.substr(open + 1, close - open - 1);
      best_end = close;
    }
  }
  size_t pclose = t.rfind("\\)");
  if (pclose != std::string::npos && (!best || pclose > best_end)) {
    size_t popen = t.rfind("\\(", pclose);
    if (popen != std::string::npos) best = t.substr(popen + 2, pclose - popen - 2);
  }
  if (!best) return std::nullopt;
  std::string a = trim(*best);
  if (a.empty()) return std::nullopt;
  try {
    detail::NodeP n = detail::parse(detail::normalize(a));
    if (n->k == detail::K::kText) return std::nullopt;
  } catch (const detail::ParseError&) {
    return std::nullopt;
  }
  return a;
}

// Boxes written one right after another ("\\boxed{2}, \\boxed{3}", "\\boxed{1}\\boxed{2}",
// "$\\boxed{2}$ and $\\boxed{3}$") are one answer in parts, as Math-Verify's tests have it:
// the last box (its argument `last`, starting at `pos`) with the boxes just before it, joined
// by ", ". Boxes with other text between them stay apart (the last one wins), and a box
// repeating the one after it is not a second part.
std::string with_adjacent_boxes(std::string_view text, size_t pos, std::string last) {
  std::vector<std::string> parts{trim(last)};
  for (;;) {
    size_t i = pos;
    for (;;) {
      while (i > 0 && (std::isspace(static_cast<unsigned char>(text[i - 1])) ||
                       text[i - 1] == '$' || text[i - 1] == ',' || text[i - 1] == ';'))
        --i;
      if (i >= 3 && text.substr(i - 3, 3) == "and" &&
          (i == 3 || !std::isalpha(static_cast<unsigned char>(text[i - 4])))) {
        i -= 3;
        continue;
      }
      break;
    }
    if (i == 0 || text[i - 1] != '}') break;
    size_t prev = last_command(text.substr(0, i), "\\boxed");
    if (prev == std::string_view::npos) break;
    size_t open = prev + 6;
    while (open < text.size() && text[open] == ' ') ++open;
    auto arg = braced_argument(text, prev, 6);
    if (!arg || open >= text.size() || text[open] != '{' || open + arg->size() + 2 != i) break;
    if (trim(*arg) == parts.back()) break;
    parts.push_back(trim(*arg));
    pos = prev;
  }
  std::string out;
  for (size_t k = parts.size(); k-- > 0;) out += (out.empty() ? "" : ", ") + parts[k];
  return out;
}

}  // namespace

const char* rule_name(ExtractRule rule) {
  switch (rule) {
    case ExtractRule::kBoxed:
      return "boxed";
    case ExtractRule::kFbox:
      return "fbox";
    case ExtractRule::kAnswerIs:
      return "answer_is";
    case ExtractRule::kHashes:
      return "hashes";
    case ExtractRule::kLastMath:
      return "last_math";
    case ExtractRule::kLastNumber:
      return "last_number";
    case ExtractRule::kWhole:
      return "whole";
    case ExtractRule::kNone:
      return "none";
  }
  return "none";
}

std::string strip_thinking(std::string_view reply) {
  size_t close = reply.rfind("</think>");
  if (close != std::string_view::npos) return std::string(reply.substr(close + 8));
  if (reply.find("<think>") != std::string_view::npos) return "";
  return std::string(reply);
}

Extraction extract_answer(std::string_view text, bool cut_off) {
  size_t boxed = last_command(text, "\\boxed");
  size_t fbox = last_command(text, "\\fbox");
  // The later of the two wins; an unbalanced last box falls back to the one before it.
  while (boxed != std::string_view::npos || fbox != std::string_view::npos) {
    bool use_boxed =
        fbox == std::string_view::npos || (boxed != std::string_view::npos && boxed > fbox);
    size_t pos = use_boxed ? boxed : fbox;
    if (auto arg = braced_argument(text, pos, use_boxed ? 6 : 5)) {
      if (use_boxed) return {with_adjacent_boxes(text, pos, *arg), ExtractRule::kBoxed};
      return {trim(*arg), ExtractRule::kFbox};
    }
    std::string_view before = text.substr(0, pos);
    if (use_boxed)
      boxed = last_command(before, "\\boxed");
    else
      fbox = last_command(before, "\\fbox");
  }
  std::string low = lower(text);
  size_t best = std::string::npos, best_len = 0;
  for (std::string_view phrase : {"final answer is", "the answer is", "final answer:", "answer:"}) {
    size_t p = low.rfind(phrase);
    if (p != std::string::npos && (best == std::string::npos || p > best)) {
      best = p;
      best_len = phrase.size();
    }
  }
  if (best != std::string::npos) {
    std::string a = answer_after_phrase(text.substr(best + best_len));
    if (!a.empty()) return {a, ExtractRule::kAnswerIs};
  }
  size_t hashes = text.rfind("####");
  if (hashes != std::string_view::npos) {
    std::string_view rest = text.substr(hashes + 4);
    std::string a = trim(rest.substr(0, rest.find('\n')));
    if (!a.empty()) return {a, ExtractRule::kHashes};
  }
  if (cut_off) return {"", ExtractRule::kNone};
  if (is_bare_answer(text)) return {trim(text), ExtractRule::kWhole};
  if (auto m = last_math_span(text)) return {*m, ExtractRule::kLastMath};
  if (auto n = last_number(text)) return {*n, ExtractRule::kLastNumber};
  return {"", ExtractRule::kNone};
}

Extraction extract_gold(std::string_view gold) {
  size_t boxed = last_command(gold, "\\boxed");
  size_t fbox = last_command(gold, "\\fbox");
  size_t pos = boxed;
  size_t len = 6;
  if (pos == std::string_view::npos || (fbox != std::string_view::npos && fbox > pos)) {
    pos = fbox;
    len = 5;
  }
  if (pos != std::string_view::npos)
    if (auto arg = braced_argument(gold, pos, len))
      return {len == 6 ? with_adjacent_boxes(gold, pos, *arg) : trim(*arg),
              len == 6 ? ExtractRule::kBoxed : ExtractRule::kFbox};
  return {trim(gold), ExtractRule::kWhole};
}

// ------------------------------------------------- lm-eval hendrycks_math/utils.py rules

namespace {

// Raised where the Python code raises (IndexError, ValueError, AssertionError).
struct PyRaise {};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::vector<std::string> py_split(const std::string& s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0, pos;
  while ((pos = s.find(sep, start)) != std::string::npos) {
    out.push_back(s.substr(start, pos - start));
    start = pos + sep.size();
  }
  out.push_back(s.substr(start));
  return out;
}

// Python int(): optional surrounding whitespace, sign, ASCII digits with single '_'
// between digits. Returns the value's str(), or nullopt (ValueError).
std::optional<std::string> py_int_str(const std::string& s) {
  std::string t = trim(s);
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  std::string digits;
  bool last_digit = false;
  for (; i < t.size(); ++i) {
    if (is_digit(t[i])) {
      digits += t[i];
      last_digit = true;
    } else if (t[i] == '_' && last_digit && i + 1 < t.size() && is_digit(t[i + 1])) {
      last_digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (digits.empty()) return std::nullopt;
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  return (neg && digits != "0" ? "-" : "") + digits;
}

std::string fix_fracs(const std::string& string) {
  std::vector<std::string> substrs = py_split(string, "\\frac");
  std::string new_str = substrs[0];
  for (size_t k = 1; k < substrs.size(); ++k) {
    const std::string& substr = substrs[k];
    new_str += "\\frac";
    if (substr.empty()) throw PyRaise{};  // substr[0] raises IndexError
    if (substr[0] == '{') {
      new_str += substr;
      continue;
    }
    if (substr.size() < 2) return string;
    char a = substr[0], b = substr[1];
    std::string post = substr.substr(2);
    if (b != '{')
      new_str += std::string("{") + a + "}{" + b + "}" + post;
    else
      new_str += std::string("{") + a + "}" + b + post;
  }
  return new_str;
}

std::string fix_a_slash_b(const std::string& string) {
  std::vector<std::string> parts = py_split(string, "/");
  if (parts.size() != 2) return string;
  auto a = py_int_str(parts[0]);
  auto b = py_int_str(parts[1]);
  if (!a || !b) throw PyRaise{};  // ValueError is not caught there
  if (string != *a + "/" + *b) return string;
  return "\\frac{" + *a + "}{" + *b + "}";
}

std::string fix_sqrt(const std::string& string) {
  if (string.find("\\sqrt") == std::string::npos) return string;
  std::vector<std::string> splits = py_split(string, "\\sqrt");
  std::string out = splits[0];
  for (size_t k = 1; k < splits.size(); ++k) {
    const std::string& split = splits[k];
    if (split.empty()) throw PyRaise{};
    if (split[0] != '{')
      out += std::string("\\sqrt{") + split[0] + "}" + split.substr(1);
    else
      out += "\\sqrt" + split;
  }
  return out;
}

std::string strip_string(std::string s) {
  s = replace_all(s, "\n", "");
  s = replace_all(s, "\\!", "");
  s = replace_all(s, "\\\\", "\\");
  s = replace_all(s, "tfrac", "frac");
  s = replace_all(s, "dfrac", "frac");
  s = replace_all(s, "\\left", "");
  s = replace_all(s, "\\right", "");
  s = replace_all(s, "^{\\circ}", "");
  s = replace_all(s, "^\\circ", "");
  s = replace_all(s, "\\$", "");
  if (s.find("\\text{ ") != std::string::npos) {
    std::vector<std::string> splits = py_split(s, "\\text{ ");
    if (splits.size() != 2) throw PyRaise{};
    s = splits[0];
  }
  s = replace_all(s, "\\%", "");
  s = replace_all(s, " .", " 0.");
  s = replace_all(s, "{.", "{0.");
  if (s.empty()) return s;
  if (s[0] == '.') s = "0" + s;
  std::vector<std::string> eq = py_split(s, "=");
  if (eq.size() == 2 && eq[0].size() <= 2) s = eq[1];
  s = fix_sqrt(s);
  s = replace_all(s, " ", "");
  s = fix_fracs(s);
  if (s == "0.5") s = "\\frac{1}{2}";
  return fix_a_slash_b(s);
}

}  // namespace

std::string hendrycks_last_boxed_answer(std::string_view text) {
  return hendrycks_boxed_answer(text).value_or("");
}

std::string hendrycks_dollar_candidate(std::string_view reply) {
  size_t first = reply.find('$'), last = reply.rfind('$');
  return std::string(first != last ? reply.substr(first + 1, last - first - 1) : reply);
}

bool hendrycks_is_equiv(std::string_view a, std::string_view b) {
  try {
    return strip_string(std::string(a)) == strip_string(std::string(b));
  } catch (const PyRaise&) {
    return a == b;
  }
}

}  // namespace retort::math
