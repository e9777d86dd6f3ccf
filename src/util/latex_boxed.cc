#include "util/latex_boxed.h"

#include <utility>

#include "util/py_regex.h"
#include "util/pyvalue.h"

namespace retort {

std::optional<std::string> hendrycks_boxed_answer(std::string_view s) {
  // if "\boxed " in string: return "\boxed " + string.split("\boxed ")[-1].split("$")[0]
  if (s.find("\\boxed ") != std::string_view::npos) {
    std::string_view last = s.substr(s.rfind("\\boxed ") + 7);
    return std::string(last.substr(0, last.find('$')));
  }
  size_t idx = s.rfind("\\boxed");
  if (idx == std::string_view::npos) return std::nullopt;  // an \fbox fails remove_boxed
  int depth = 0;
  for (size_t i = idx; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) {
      std::string_view boxed = s.substr(idx, i + 1 - idx);
      if (boxed.substr(0, 7) != "\\boxed{") return std::nullopt;
      return std::string(boxed.substr(7, boxed.size() - 8));
    }
  }
  return std::nullopt;
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

}  // namespace

std::string minerva_normalize_final_answer(std::string_view answer) {
  // minerva_math/utils.py SUBSTITUTIONS and REMOVED_EXPRESSIONS, in their order.
  static const std::pair<const char*, const char*> kSubstitutions[] = {
      {"an ", ""},          {"a ", ""},
      {".$", "$"},          {"\\$", ""},
      {"\\ ", ""},          {" ", ""},
      {"mbox", "text"},     {",\\text{and}", ","},
      {"\\text{and}", ","}, {"\\text{m}", "\\text{}"},
  };
  static const char* const kRemoved[] = {
      "square",       "ways",
      "integers",     "dollars",
      "mph",          "inches",
      "ft",           "hours",
      "km",           "units",
      "\\ldots",      "sue",
      "points",       "feet",
      "minutes",      "digits",
      "cents",        "degrees",
      "cm",           "gm",
      "pounds",       "meters",
      "meals",        "edges",
      "students",     "childrentickets",
      "multiples",    "\\text{s}",
      "\\text{.}",    "\\text{\ns}",
      "\\text{}^2",   "\\text{}^3",
      "\\text{\n}",   "\\text{}",
      "\\mathrm{th}", "^\\circ",
      "^{\\circ}",    "\\;",
      ",\\!",         "{,}",
      "\"",           "\\dots",
  };
  // final_answer.split("=")[-1]
  std::string s(
      answer.substr(answer.rfind('=') == std::string_view::npos ? 0 : answer.rfind('=') + 1));
  for (const auto& [from, to] : kSubstitutions) replace_all(s, from, to);
  for (const char* e : kRemoved) replace_all(s, e, "");
  // The re.sub calls, in order (Python replacement templates).
  static const std::pair<const char*, const char*> kSubs[] = {
      {R"((.*?)(\$)(.*?)(\$)(.*))", R"($\3$)"}, {R"((\\text\{)(.*?)(\}))", R"(\2)"},
      {R"((\\textbf\{)(.*?)(\}))", R"(\2)"},    {R"((\\overline\{)(.*?)(\}))", R"(\2)"},
      {R"((\\boxed\{)(.*)(\}))", R"(\2)"},      {R"((frac)([^{])(.))", R"(frac{\2}{\3})"},
      {R"((sqrt)([^{]))", R"(sqrt{\2})"},
  };
  for (const auto& [pattern, repl] : kSubs) s = PyRegex::compile(pattern)->sub(repl, s);
  replace_all(s, "$", "");
  std::string digits = s;
  replace_all(digits, ",", "");
  if (py_isdigit(digits)) s = digits;
  return s;
}

std::string minerva_unnormalized_answer(std::string_view reply) {
  std::string text(reply);
  text += "I hope it is correct.";
  auto m = PyRegex::compile(R"(Final Answer: The final answer is(.*?). I hope it is correct.)")
               ->search(text);
  if (!m) return "[invalidanswer]";
  return py_strip(m->group_or_empty(1));
}

}  // namespace retort
