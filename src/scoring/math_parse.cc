// Normalisation, tokenizer, parser and evaluation of math answers (see math_expr.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "scoring/math_expr.h"

namespace retort::math::detail {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Replaces a LaTeX command only where it is not the prefix of a longer command name.
void replace_command(std::string& s, std::string_view cmd, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(cmd, pos)) != std::string::npos) {
    size_t after = pos + cmd.size();
    if (after < s.size() && is_alpha(s[after]) && is_alpha(cmd.back())) {
      pos = after;
      continue;
    }
    s.replace(pos, cmd.size(), to);
    pos += to.size();
  }
}

// Units and unit-like words that follow a number in answers (MATH, GSM8K, AIME). Removed
// when written after a number or in \text{}; never single letters outside \text{}.
const std::set<std::string>& unit_words() {
  static const std::set<std::string> k = {
      "unit",       "units",       "square",    "sq",         "cubic",       "cm",
      "centimeter", "centimeters", "mm",        "millimeter", "millimeters", "km",
      "kilometer",  "kilometers",  "meter",     "meters",     "metre",       "metres",
      "inch",       "inches",      "in",        "foot",       "feet",        "ft",
      "yard",       "yards",       "yd",        "mile",       "miles",       "mi",
      "mph",        "kph",         "degree",    "degrees",    "deg",         "radian",
      "radians",    "dollar",      "dollars",   "cent",       "cents",       "hour",
      "hours",      "hr",          "hrs",       "minute",     "minutes",     "min",
      "mins",       "second",      "seconds",   "sec",        "secs",        "day",
      "days",       "week",        "weeks",     "month",      "months",      "year",
      "years",      "yr",          "yrs",       "gram",       "grams",       "g",
      "kg",         "kilogram",    "kilograms", "pound",      "pounds",      "lb",
      "lbs",        "ounce",       "ounces",    "oz",         "liter",       "liters",
      "litre",      "litres",      "ml",        "l",          "gallon",      "gallons",
      "m",          "s",           "h",         "percent",    "points",      "point",
      "ways",       "students",    "people",    "times",      "steps",       "apples",
      "marbles",    "pages",       "books",     "tickets",    "coins",       "games",
      "items",      "pieces",      "boxes",     "children",   "edges",       "vertices",
      "faces",      "digits",      "numbers",   "integers",   "values",      "solutions",
      "pairs",      "triangles",   "squares",   "cups",       "bags",        "cookies",
      "candies",    "slices",      "rows",      "sides",      "m^2",         "cm^2",
      "ft^2",       "in^2",        "m^3",       "cm^3",       "units^2",     "mph.",
      "am",         "pm",          "o'clock",   "dozen",      "pct"};
  return k;
}

bool is_unit_phrase(std::string_view content) {
  std::string c = lower(trim(content));
  while (!c.empty() && (c.back() == '.' || c.back() == ',')) c.pop_back();
  if (c.empty()) return false;
  size_t i = 0;
  while (i < c.size()) {
    while (i < c.size() && (c[i] == ' ' || c[i] == '~')) ++i;
    size_t j = i;
    while (j < c.size() && c[j] != ' ' && c[j] != '~') ++j;
    if (j > i && !unit_words().count(c.substr(i, j - i))) return false;
    i = j;
  }
  return true;
}

// The braced group starting at s[open] == '{'; returns the index of its closing brace.
size_t matching_brace(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t j = open; j < s.size(); ++j) {
    if (s[j] == '\\' && j + 1 < s.size() && (s[j + 1] == '{' || s[j + 1] == '}')) {
      ++j;
      continue;
    }
    if (s[j] == '{') ++depth;
    if (s[j] == '}' && --depth == 0) return j;
  }
  return std::string::npos;
}

// \text{...} groups: unit phrases and empty groups go; "and"/"or" become commas; a group
// written with a leading space after some mathematics ("5\text{ cm}") is a unit too.
std::string handle_text_groups(std::string s) {
  size_t pos = 0;
  while ((pos = s.find("\\text{", pos)) != std::string::npos) {
    size_t close = matching_brace(s, pos + 5);
    if (close == std::string::npos) break;
    std::string content = s.substr(pos + 6, close - pos - 6);
    std::string t = lower(trim(content));
    std::string before = trim(s.substr(0, pos));
    bool at_end = trim(s.substr(close + 1)).empty();
    std::string repl;
    bool drop = t.empty() || is_unit_phrase(t) ||
                (at_end && !before.empty() && !content.empty() && content[0] == ' ' &&
                 before.back() != ',');
    if (t == "and" || t == "or" || t == "," || t == ", and" || t == "and," || t == ", or")
      repl = ",";
    else if (!drop)
      repl = "\\text{" + content + "}";
    size_t end = close + 1;
    if (drop) {
      // A squared or cubed unit: "25 \text{m}^2".
      for (std::string_view sup : {"^{2}", "^{3}", "^2", "^3"})
        if (s.compare(end, sup.size(), sup) == 0) {
          end += sup.size();
          break;
        }
    }
    s.replace(pos, end - pos, repl);
    pos += repl.empty() ? 0 : repl.size();
  }
  return s;
}

// Drops unit words written after a number: "5 cm", "12 square units", "3 dollars".
std::string strip_trailing_units(std::string s) {
  for (;;) {
    std::string t = trim(s);
    size_t e = t.size();
    size_t b = e;
    while (b > 0 && (is_alpha(t[b - 1]) || t[b - 1] == '^' || is_digit(t[b - 1]) ||
                     t[b - 1] == '\'' || t[b - 1] == '.'))
      --b;
    while (b < e && is_digit(t[b])) ++b;  // the number itself stays
    if (b == e || b == 0 || t[b - 1] != ' ') return t;
    std::string word = lower(t.substr(b, e - b));
    if (word.size() < 2 || !unit_words().count(word)) return t;
    std::string rest = trim(t.substr(0, b));
    if (rest.empty()) return t;
    char last = rest.back();
    if (!(is_digit(last) || last == '}' || last == ')' || is_alpha(last))) return t;
    s = rest;
  }
}

bool is_thousands_number(const std::string& s) {
  // -?d{1,3}(,ddd)+(.d*)?
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == start || i - start > 3) return false;
  bool group = false;
  while (i < s.size() && s[i] == ',') {
    for (int k = 1; k <= 3; ++k)
      if (i + k >= s.size() || !is_digit(s[i + k])) return false;
    i += 4;
    group = true;
  }
  if (!group) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i == s.size();
}

}  // namespace

std::string normalize(std::string_view in) {
  std::string s(in);
  replace_all(s, "\r", " ");
  replace_all(s, "\n", " ");
  // Unicode forms of symbols (UTF-8).
  replace_all(s, "\xe2\x88\x92", "-");         // U+2212 minus
  replace_all(s, "\xe2\x80\x93", "-");         // en dash
  replace_all(s, "\xcf\x80", "\\pi ");         // π
  replace_all(s, "\xe2\x88\x9a", "\\sqrt");    // √
  replace_all(s, "\xc3\x97", "\\times ");      // ×
  replace_all(s, "\xc2\xb7", "\\cdot ");       // ·
  replace_all(s, "\xe2\x8b\x85", "\\cdot ");   // ⋅
  replace_all(s, "\xe2\x89\xa4", "\\le ");     // ≤
  replace_all(s, "\xe2\x89\xa5", "\\ge ");     // ≥
  replace_all(s, "\xe2\x89\xa0", "\\ne ");     // ≠
  replace_all(s, "\xe2\x88\x9e", "\\infty ");  // ∞
  replace_all(s, "\xe2\x88\xaa", "\\cup ");    // ∪
  replace_all(s, "\xe2\x88\x88", "\\in ");     // ∈
  replace_all(s, "\xc2\xb0", "");              // °
  replace_all(s, "\xc2\xb2", "^2");            // superscript two
  replace_all(s, "\xc2\xb3", "^3");            // superscript three
  replace_all(s, "\xc2\xa0", " ");             // no-break space
  // Dollar signs: currency first, then math delimiters.
  replace_all(s, "\\$", "");
  replace_all(s, "\\[", " ");
  replace_all(s, "\\]", " ");
  replace_all(s, "\\(", " ");
  replace_all(s, "\\)", " ");
  replace_all(s, "$", "");
  // Sizing and spacing commands carry no mathematics.
  replace_command(s, "\\left.", "");
  replace_command(s, "\\right.", "");
  for (std::string_view c :
       {"\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\big",
        "\\Big", "\\bigg", "\\Bigg", "\\displaystyle", "\\textstyle", "\\limits"})
    replace_command(s, c, "");
  for (std::string_view c : {"\\qquad", "\\quad"}) replace_command(s, c, " ");
  // Protect LaTeX's row separator "\\\\" from the spacing rules below.
  replace_all(s, "\\\\", "\x01");
  // ",\!" is MATH's thousands separator (10,\!000): the comma goes too, so that "32,\!349"
  // is 32349 while "32, 349" stays a list of two numbers.
  replace_all(s, ",\\!", "");
  replace_all(s, "\\!", "");
  replace_all(s, "\\,", "");
  replace_all(s, "\\;", " ");
  replace_all(s, "\\:", " ");
  replace_all(s, "\\ ", " ");
  replace_all(s, "~", " ");
  replace_all(s, "{,}", "");
  for (std::string_view r : {"\\mathbb{R}", "\\mathbb R"}) replace_all(s, r, "(-\\infty,\\infty)");
  for (std::string_view c : {"\\dfrac", "\\tfrac", "\\cfrac"}) replace_command(s, c, "\\frac");
  for (std::string_view c : {"\\dbinom", "\\tbinom"}) replace_command(s, c, "\\binom");
  for (std::string_view c : {"\\mbox", "\\textrm", "\\textbf", "\\textit", "\\textnormal",
                             "\\mathrm", "\\mathbf", "\\mathit", "\\textsf", "\\texttt"})
    replace_command(s, c, "\\text");
  // Degrees and percent.
  for (std::string_view c : {"^{\\circ}", "^\\circ", "^{\\degree}", "\\degree", "\\circ"})
    replace_all(s, c, "");
  replace_all(s, "\\%", "");
  replace_all(s, "%", "");
  replace_all(s, "\x01", "\\\\");
  s = handle_text_groups(s);
  // "x \in [1, 2]" and "x \in \{1, 2\}": the set itself.
  {
    std::string t = trim(s);
    if (t.size() > 2 && is_alpha(t[0])) {
      size_t i = 1;
      while (i < t.size() && t[i] == ' ') ++i;
      if (t.compare(i, 3, "\\in") == 0 && (i + 3 >= t.size() || !is_alpha(t[i + 3])))
        s = t.substr(i + 3);
    }
  }
  // Words joining list items.
  {
    std::string padded = " " + s + " ";
    replace_all(padded, ", and ", ", ");
    replace_all(padded, ", or ", ", ");
    replace_all(padded, " and ", ", ");
    replace_all(padded, " or ", ", ");
    s = padded;
    // "7, -2, \text{ and } -5": the word became a comma beside a comma.
    for (;;) {
      size_t at = s.find(",");
      bool changed = false;
      while (at != std::string::npos) {
        size_t j = at + 1;
        while (j < s.size() && s[j] == ' ') ++j;
        if (j < s.size() && s[j] == ',') {
          s.erase(at, j - at);
          changed = true;
          break;
        }
        at = s.find(",", at + 1);
      }
      if (!changed) break;
    }
  }
  s = strip_trailing_units(s);
  s = trim(s);
  while (!s.empty() && (s.back() == '.' || s.back() == ';')) s = trim(s.substr(0, s.size() - 1));
  // Collapse runs of spaces.
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  std::string nospace;
  for (char c : out)
    if (c != ' ') nospace += c;
  // "1 000 000": digit groups separated by single spaces.
  {
    std::string commas = out;
    replace_all(commas, " ", ",");
    if (commas.find(",,") == std::string::npos && is_thousands_number(commas)) nospace = commas;
  }
  // A comma followed by a space separates items: "32, 349" is two numbers.
  if (out.find(", ") == std::string::npos && is_thousands_number(nospace)) {
    out.clear();
    for (char c : nospace)
      if (c != ',') out += c;
  }
  return out;
}

std::string text_form(std::string_view normalized) {
  std::string s = lower(normalized);
  replace_all(s, "\\text", "");
  std::string out;
  for (char c : s) {
    if (c == '{' || c == '}' || c == '\\' || c == '"' || c == '\'') continue;
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  replace_all(out, ", ", ",");
  replace_all(out, " ,", ",");
  // Choice letters: "(a), (b)" reads as "a,b".
  for (size_t i = 0; i + 2 < out.size();) {
    if (out[i] == '(' && is_alpha(out[i + 1]) && out[i + 2] == ')' &&
        (i == 0 || !is_alpha(out[i - 1]))) {
      out.erase(i + 2, 1);
      out.erase(i, 1);
    }
    ++i;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ',')) out.pop_back();
  return out;
}

// ------------------------------------------------------------------------ tokenizer

namespace {

enum class T { kNum, kIdent, kCmd, kSym, kEnd };

struct Tok {
  T t = T::kEnd;
  std::string s;
};

std::vector<Tok> tokenize(const std::string& s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      size_t j = i;
      while (j < s.size() && is_digit(s[j])) ++j;
      if (j < s.size() && s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {
        ++j;
        while (j < s.size() && is_digit(s[j])) ++j;
      } else if (j < s.size() && s[j] == '.' && (j + 1 == s.size() || !is_alpha(s[j + 1]))) {
        ++j;  // "27." is 27
      }
      // Scientific notation: 1.5e-3, 2E+10.
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && is_digit(s[k])) {
          while (k < s.size() && is_digit(s[k])) ++k;
          j = k;
        }
      }
      out.push_back({T::kNum, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (is_alpha(c)) {
      size_t j = i;
      while (j < s.size() && is_alpha(s[j])) ++j;
      out.push_back({T::kIdent, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c == '\\') {
      if (i + 1 < s.size() && is_alpha(s[i + 1])) {
        size_t j = i + 1;
        while (j < s.size() && is_alpha(s[j])) ++j;
        std::string name = s.substr(i + 1, j - i - 1);
        if (name == "text") {
          // \text{...} is one token carrying its raw content.
          size_t k = j;
          while (k < s.size() && s[k] == ' ') ++k;
          if (k < s.size() && s[k] == '{') {
            size_t close = matching_brace(s, k);
            if (close == std::string::npos) throw ParseError("unbalanced \\text{");
            out.push_back({T::kCmd, "text:" + s.substr(k + 1, close - k - 1)});
            i = close + 1;
            continue;
          }
        }
        out.push_back({T::kCmd, name});
        i = j;
        continue;
      }
      if (i + 1 < s.size()) {
        char n = s[i + 1];
        if (n == '\\')
          out.push_back({T::kCmd, "\\\\"});
        else if (n == '{')
          out.push_back({T::kCmd, "{"});
        else if (n == '}')
          out.push_back({T::kCmd, "}"});
        else if (n == '|')
          out.push_back({T::kSym, "|"});
        else
          throw ParseError(std::string("unknown escape \\") + n);
        i += 2;
        continue;
      }
      throw ParseError("trailing backslash");
    }
    auto two = s.substr(i, 2);
    if (two == "<=" || two == ">=" || two == "!=" || two == "**" || two == "=>" || two == "=<") {
      std::string op = two == "=>" ? ">=" : two == "=<" ? "<=" : two;
      out.push_back({T::kSym, op});
      i += 2;
      continue;
    }
    out.push_back({T::kSym, std::string(1, c)});
    ++i;
  }
  out.push_back({T::kEnd, ""});
  return out;
}

const std::set<std::string>& function_names() {
  static const std::set<std::string> k = {
      "sin",  "cos",  "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh",
      "cosh", "tanh", "log", "ln",  "exp", "lg",  "sqrt",   "abs",    "floor",  "ceil"};
  return k;
}

const std::set<std::string>& greek() {
  static const std::set<std::string> k = {
      "alpha",    "beta",    "gamma", "delta",  "epsilon", "varepsilon", "zeta",  "eta",   "theta",
      "vartheta", "iota",    "kappa", "lambda", "mu",      "nu",         "xi",    "rho",   "sigma",
      "tau",      "upsilon", "phi",   "varphi", "chi",     "psi",        "omega", "Gamma", "Delta",
      "Theta",    "Lambda",  "Xi",    "Sigma",  "Phi",     "Psi",        "Omega"};
  return k;
}

NodeP make(K k, std::vector<NodeP> c = {}, std::string text = "") {
  auto n = std::make_shared<Node>();
  n->k = k;
  n->c = std::move(c);
  n->text = std::move(text);
  return n;
}

class Parser {
 public:
  explicit Parser(std::vector<Tok> toks) : t_(std::move(toks)) {}

  NodeP top() {
    NodeP n = list({});
    if (peek().t != T::kEnd) throw ParseError("unexpected '" + peek().s + "'");
    return n;
  }

 private:
  const Tok& peek(size_t ahead = 0) const {
    size_t i = std::min(p_ + ahead, t_.size() - 1);
    return t_[i];
  }
  Tok next() { return t_[std::min(p_++, t_.size() - 1)]; }
  bool sym(std::string_view s) const { return peek().t == T::kSym && peek().s == s; }
  bool cmd(std::string_view s) const { return peek().t == T::kCmd && peek().s == s; }
  void expect_sym(std::string_view s) {
    if (!sym(s)) throw ParseError("expected '" + std::string(s) + "'");
    ++p_;
  }

  // Splits the current number or identifier token after its first character (LaTeX takes
  // one character as an unbraced argument: \frac12, \sqrt2).
  void split_first() {
    Tok& tok = t_[p_];
    if ((tok.t == T::kNum || tok.t == T::kIdent) && tok.s.size() > 1) {
      Tok rest{tok.t, tok.s.substr(1)};
      tok.s = tok.s.substr(0, 1);
      t_.insert(t_.begin() + static_cast<long>(p_) + 1, rest);
    }
  }

  bool at_list_end(const std::vector<std::string>& closers) const {
    if (peek().t == T::kEnd) return true;
    for (const auto& c : closers) {
      if (c == "\\}" ? cmd("}") : (peek().t == T::kSym && peek().s == c)) return true;
      if (c == "\\\\" && cmd("\\\\")) return true;
      if (c == "end" && cmd("end")) return true;
    }
    return false;
  }

  NodeP list(const std::vector<std::string>& closers) {
    std::vector<NodeP> items;
    if (at_list_end(closers)) return make(K::kList);
    items.push_back(union_());
    while (sym(",") || sym(";")) {
      ++p_;
      if (at_list_end(closers)) break;  // trailing comma
      items.push_back(union_());
    }
    if (items.size() == 1) return items[0];
    return make(K::kList, std::move(items));
  }

  NodeP union_() {
    std::vector<NodeP> parts{relation()};
    while (cmd("cup") || (peek().t == T::kIdent && peek().s == "U")) {
      ++p_;
      parts.push_back(relation());
    }
    if (parts.size() == 1) return parts[0];
    return make(K::kUnion, std::move(parts));
  }

  std::optional<std::string> rel_op() const {
    const Tok& k = peek();
    if (k.t == T::kSym) {
      if (k.s == "=" || k.s == "<" || k.s == ">" || k.s == "<=" || k.s == ">=" || k.s == "!=")
        return k.s;
    } else if (k.t == T::kCmd) {
      if (k.s == "le" || k.s == "leq" || k.s == "leqslant") return "<=";
      if (k.s == "ge" || k.s == "geq" || k.s == "geqslant") return ">=";
      if (k.s == "lt") return "<";
      if (k.s == "gt") return ">";
      if (k.s == "ne" || k.s == "neq") return "!=";
      if (k.s == "approx" || k.s == "equiv") return "=";
      if (k.s == "in") return "in";
    }
    return std::nullopt;
  }

  NodeP relation() {
    NodeP first = expr();
    auto op = rel_op();
    if (!op) return first;
    std::vector<NodeP> sides{first};
    std::vector<std::string> ops;
    while ((op = rel_op())) {
      ++p_;
      ops.push_back(*op);
      sides.push_back(expr());
    }
    // "x \in S" is S.
    if (ops.size() == 1 && ops[0] == "in") return sides[1];
    for (const auto& o : ops)
      if (o == "in") throw ParseError("'\\in' inside a chain");
    auto n = std::make_shared<Node>();
    n->k = K::kRel;
    n->c = std::move(sides);
    n->ops = std::move(ops);
    return n;
  }

  NodeP expr() {
    NodeP a;
    if (sym("-")) {
      ++p_;
      a = make(K::kNeg, {term()});
    } else if (sym("+")) {
      ++p_;
      a = term();
    } else if (cmd("pm")) {
      ++p_;
      a = make(K::kPm, {make(K::kNum, {}, "0"), term()});
    } else {
      a = term();
    }
    for (;;) {
      if (sym("+")) {
        ++p_;
        a = make(K::kAdd, {a, term()});
      } else if (sym("-")) {
        ++p_;
        a = make(K::kAdd, {a, make(K::kNeg, {term()})});
      } else if (cmd("pm")) {
        ++p_;
        a = make(K::kPm, {a, term()});
      } else if (cmd("mp")) {
        ++p_;
        a = make(K::kPm, {a, make(K::kNeg, {term()})});
      } else {
        return a;
      }
    }
  }

  bool starts_factor() const {
    const Tok& k = peek();
    switch (k.t) {
      case T::kNum:
      case T::kIdent:
        return !(k.s == "U" && k.t == T::kIdent);
      case T::kCmd:
        return k.s == "frac" || k.s == "sqrt" || k.s == "pi" || k.s == "infty" || k.s == "{" ||
               k.s == "binom" || k.s == "lfloor" || k.s == "lceil" || k.s == "operatorname" ||
               k.s == "exp" || greek().count(k.s) || function_names().count(k.s) ||
               k.s == "begin" || k.s == "overline" || k.s == "boxed" ||
               k.s.rfind("text:", 0) == 0 || k.s == "langle";
      case T::kSym:
        return k.s == "(" || k.s == "{" || (k.s == "|" && abs_depth_ == 0);
      case T::kEnd:
        return false;
    }
    return false;
  }

  static bool is_int_token(const Tok& k) {
    return k.t == T::kNum && k.s.find_first_not_of("0123456789") == std::string::npos;
  }

  bool starts_function() const {
    const Tok& k = peek();
    if (k.t == T::kCmd) return function_names().count(k.s) || k.s == "operatorname";
    return k.t == T::kIdent && function_names().count(k.s);
  }

  NodeP term() {
    NodeP a = unary();
    for (;;) {
      if (sym("*") || cmd("cdot") || cmd("times") || cmd("ast")) {
        ++p_;
        a = make(K::kMul, {a, unary()});
      } else if (sym("/") || cmd("div")) {
        ++p_;
        a = make(K::kDiv, {a, unary()});
      } else if (starts_factor()) {
        if (a->k == K::kNum && peek().t == T::kNum) {
          // "1 1/2" is a mixed number; any other "2 3" is not mathematics.
          if (a->int_literal && peek(1).t == T::kSym && peek(1).s == "/" && peek(2).t == T::kNum &&
              is_int_token(peek()) && is_int_token(peek(2)) &&
              !(peek(3).t == T::kSym && (peek(3).s == "^" || peek(3).s == "/"))) {
            NodeP num = primary();
            ++p_;
            NodeP den = primary();
            a = make(K::kAdd, {a, make(K::kDiv, {num, den})});
            continue;
          }
          throw ParseError("two numbers side by side");
        }
        NodeP b = power();
        // A mixed number: an integer written right before \frac{int}{int}.
        if (a->int_literal && b->k == K::kDiv && b->c[0]->int_literal && b->c[1]->int_literal &&
            b->text == "frac")
          a = make(K::kAdd, {a, b});
        else
          a = make(K::kMul, {a, b});
      } else {
        return a;
      }
    }
  }

  NodeP unary() {
    if (sym("-")) {
      ++p_;
      return make(K::kNeg, {unary()});
    }
    if (sym("+")) {
      ++p_;
      return unary();
    }
    return power();
  }

  NodeP exponent() {
    if (sym("{")) {
      ++p_;
      NodeP e = expr();
      expect_sym("}");
      return e;
    }
    if (sym("-")) {
      ++p_;
      return make(K::kNeg, {exponent()});
    }
    if (peek().t == T::kIdent) split_first();
    return postfix(primary());
  }

  NodeP postfix(NodeP base) {
    for (;;) {
      if (sym("!") && !(peek(1).t == T::kSym && peek(1).s == "=")) {
        ++p_;
        base = make(K::kFact, {base});
      } else if (sym("'")) {
        throw ParseError("prime");
      } else {
        return base;
      }
    }
  }

  NodeP power() {
    NodeP base = postfix(primary());
    if (sym("^") || sym("**")) {
      ++p_;
      NodeP e = exponent();
      return make(K::kPow, {base, e});
    }
    return base;
  }

  // An argument of \frac / \sqrt: a braced group or one character / command.
  NodeP arg() {
    if (sym("{")) {
      ++p_;
      NodeP e = list({"}"});
      expect_sym("}");
      return e;
    }
    split_first();
    return primary();
  }

  NodeP bracket(const std::string& open) {
    const std::vector<std::string> closers = {")", "]"};
    NodeP inner = list(closers);
    if (!(sym(")") || sym("]"))) throw ParseError("unclosed '" + open + "'");
    std::string close = next().s;
    std::vector<NodeP> items;
    if (inner->k == K::kList && !inner->c.empty()) {
      items = inner->c;
    } else if (inner->k == K::kList) {
      throw ParseError("empty brackets");
    } else {
      if (open == "(" && close == ")") return inner;
      if (open == "[" && close == "]") return inner;
      throw ParseError("mismatched brackets");
    }
    auto n = std::make_shared<Node>();
    n->k = K::kTuple;
    n->c = std::move(items);
    n->open = open[0];
    n->close = close[0];
    return n;
  }

  NodeP function(const std::string& name) {
    // \sin^2 x, \log_2 x, \log_{10}(x), \sin(x), \sin x.
    NodeP pow;
    NodeP base;
    if (sym("_")) {
      ++p_;
      base = arg();
    }
    if (sym("^")) {
      ++p_;
      pow = exponent();
    }
    NodeP x;
    if (sym("(")) {
      ++p_;
      x = bracket("(");
    } else {
      // \sin 2x is sin(2x); \sin x \cos x is sin(x)·cos(x).
      x = power();
      while (starts_factor() && !starts_function()) x = make(K::kMul, {x, power()});
    }
    NodeP f = make(K::kFunc, {x}, name);
    if (base) f = make(K::kDiv, {make(K::kFunc, {x}, "ln"), make(K::kFunc, {base}, "ln")});
    if (pow) f = make(K::kPow, {f, pow});
    return f;
  }

  NodeP var_with_subscript(std::string name) {
    if (sym("_")) {
      ++p_;
      if (sym("{")) {
        size_t depth = 0;
        std::string sub;
        do {
          Tok k = next();
          if (k.t == T::kEnd) throw ParseError("unclosed subscript");
          if (k.t == T::kSym && k.s == "{") ++depth;
          if (k.t == T::kSym && k.s == "}") --depth;
          sub += k.s;
        } while (depth > 0);
        // r_{0} is r_0; r_{ab} keeps its braces.
        std::string inner = sub.substr(1, sub.size() - 2);
        name += "_" + (inner.size() == 1 ? inner : sub);
      } else {
        split_first();
        name += "_" + next().s;
      }
    }
    return make(K::kVar, {}, name);
  }

  // A numeral with its base as a subscript, 204_5 or 4210_{7}: the same digits in the same
  // base are equal, nothing else is (204_5 is not 54, which is what it means in base ten,
  // nor 204); base ten is the plain number. Kept as text "digits_base".
  NodeP base_numeral(const std::string& digits) {
    ++p_;  // '_'
    std::string base;
    if (sym("{")) {
      ++p_;
      if (!is_int_token(peek())) throw ParseError("base subscript");
      base = next().s;
      expect_sym("}");
    } else {
      if (!is_int_token(peek())) throw ParseError("base subscript");
      split_first();
      base = next().s;
    }
    int b = std::atoi(base.c_str());
    if (b < 2 || b > 36) throw ParseError("base " + base);
    for (char d : digits)
      if (d - '0' >= b) throw ParseError("digit " + std::string(1, d) + " in base " + base);
    if (b == 10) {
      auto n = std::make_shared<Node>();
      n->k = K::kNum;
      n->text = digits;
      n->int_literal = true;
      return n;
    }
    size_t nz = digits.find_first_not_of('0');
    return make(K::kText, {},
                (nz == std::string::npos ? "0" : digits.substr(nz)) + "_" + std::to_string(b));
  }

  NodeP matrix() {
    expect_sym("{");
    std::string env = next().s;
    expect_sym("}");
    if (env == "array" && sym("{")) {  // column spec
      while (!sym("}") && peek().t != T::kEnd) ++p_;
      expect_sym("}");
    }
    std::vector<std::vector<NodeP>> rows(1);
    for (;;) {
      if (cmd("end")) break;
      if (peek().t == T::kEnd) throw ParseError("unclosed \\begin{" + env + "}");
      rows.back().push_back(relation());
      if (sym("&")) {
        ++p_;
      } else if (cmd("\\\\")) {
        ++p_;
        rows.emplace_back();
      } else if (!cmd("end")) {
        throw ParseError("unexpected '" + peek().s + "' in matrix");
      }
    }
    ++p_;
    expect_sym("{");
    ++p_;
    expect_sym("}");
    if (rows.back().empty()) rows.pop_back();
    auto n = std::make_shared<Node>();
    n->k = K::kMatrix;
    n->rows = static_cast<int>(rows.size());
    n->cols = rows.empty() ? 0 : static_cast<int>(rows[0].size());
    for (auto& r : rows) {
      if (static_cast<int>(r.size()) != n->cols) throw ParseError("ragged matrix");
      for (auto& x : r) n->c.push_back(x);
    }
    if (env == "vmatrix") throw ParseError("determinant");
    return n;
  }

  NodeP ident(const std::string& s) {
    if (s == "pi") return make(K::kPi);
    if (s == "e") return make(K::kE);
    if (s == "i") return make(K::kI);
    if (s == "inf" || s == "infinity" || s == "infty" || s == "oo") return make(K::kInf);
    if (function_names().count(s)) return function(s);
    if (s.size() == 1) return var_with_subscript(s);
    if (s.size() == 2) {
      // xy is x·y: put the second letter back as its own token.
      t_.insert(t_.begin() + static_cast<long>(p_), Tok{T::kIdent, s.substr(1)});
      return var_with_subscript(s.substr(0, 1));
    }
    throw ParseError("text");
  }

  NodeP primary() {
    // Deeply nested input is not an answer; stop before the stack does.
    struct Depth {
      int& d;
      explicit Depth(int& d_) : d(d_) {
        if (++d > 200) throw ParseError("nested too deeply");
      }
      ~Depth() { --d; }
    } guard(depth_);
    Tok k = next();
    switch (k.t) {
      case T::kNum: {
        // A repeating decimal, 0.\overline{3} or 1.2\overline{34}: an exact fraction.
        if (k.s.find('.') != std::string::npos && k.s.find_first_of("eE") == std::string::npos &&
            cmd("overline") && peek(1).t == T::kSym && peek(1).s == "{" && peek(2).t == T::kNum &&
            peek(3).t == T::kSym && peek(3).s == "}" &&
            peek(2).s.find_first_not_of("0123456789") == std::string::npos) {
          std::string rep = peek(2).s;
          p_ += 4;
          std::string lit = k.s;
          size_t dot = lit.find('.');
          std::string whole = lit.substr(0, dot), frac = lit.substr(dot + 1);
          if (whole.empty()) whole = "0";
          if (whole.size() + frac.size() + rep.size() > 17)
            throw ParseError("long repeating decimal");
          long long with = std::stoll(whole + frac + rep), without = std::stoll(whole + frac);
          std::string den = std::string(rep.size(), '9') + std::string(frac.size(), '0');
          auto num = std::make_shared<Node>();
          num->k = K::kNum;
          num->text = std::to_string(with - without);
          auto d = std::make_shared<Node>();
          d->k = K::kNum;
          d->text = den;
          return make(K::kDiv, {num, d});
        }
        auto n = std::make_shared<Node>();
        n->k = K::kNum;
        n->text = k.s;
        n->int_literal = k.s.find_first_not_of("0123456789") == std::string::npos;
        if (n->int_literal && sym("_")) return base_numeral(k.s);
        return n;
      }
      case T::kIdent: {
        if (k.s.size() > 2 && !function_names().count(k.s)) {
          // Known words may be followed by other letters: "pi" in "2pi" was split already.
          static const std::set<std::string> words = {"pi", "inf", "infinity", "infty", "oo"};
          if (!words.count(k.s)) {
            // "sqrtx" or "pix": a known name glued to a variable.
            for (const std::string& w : {std::string("sqrt"), std::string("pi")}) {
              if (k.s.rfind(w, 0) == 0 && k.s.size() <= w.size() + 2) {
                t_.insert(t_.begin() + static_cast<long>(p_), Tok{T::kIdent, k.s.substr(w.size())});
                return ident(w);
              }
            }
          }
        }
        return ident(k.s);
      }
      case T::kCmd: {
        const std::string& c = k.s;
        if (c.rfind("text:", 0) == 0) {
          std::string content = trim(c.substr(5));
          // \text{(C)} or \text{5}: read what is inside when it is mathematics.
          return make(K::kText, {}, content);
        }
        if (c == "frac") {
          NodeP num = arg();
          NodeP den = arg();
          NodeP d = make(K::kDiv, {num, den}, "frac");
          return d;
        }
        if (c == "binom") {
          NodeP a = arg(), b = arg();
          return make(K::kFunc, {a, b}, "binom");
        }
        if (c == "sqrt") {
          NodeP index;
          if (sym("[")) {
            ++p_;
            index = expr();
            expect_sym("]");
          }
          NodeP x = arg();
          if (index) return make(K::kFunc, {x, index}, "root");
          return make(K::kFunc, {x}, "sqrt");
        }
        if (c == "pi") return make(K::kPi);
        if (c == "infty" || c == "infin") return make(K::kInf);
        if (c == "emptyset" || c == "varnothing") return make(K::kSet);
        if (c == "{") {
          NodeP inner = list({"\\}"});
          if (!cmd("}")) throw ParseError("unclosed '\\{'");
          ++p_;
          if (inner->k == K::kList) return make(K::kSet, inner->c);
          return make(K::kSet, {inner});
        }
        if (c == "langle") {
          NodeP inner = list({});
          if (!cmd("rangle")) throw ParseError("unclosed \\langle");
          ++p_;
          auto n = std::make_shared<Node>();
          n->k = K::kTuple;
          n->open = '(';
          n->close = ')';
          n->c = inner->k == K::kList ? inner->c : std::vector<NodeP>{inner};
          return n;
        }
        if (c == "begin") return matrix();
        if (c == "boxed" || c == "overline" || c == "mathbb" || c == "hat" || c == "vec" ||
            c == "bar") {
          NodeP a = arg();
          if (c == "mathbb") throw ParseError("text");
          return a;
        }
        if (c == "lfloor" || c == "lceil") {
          NodeP x = expr();
          if (!cmd(c == "lfloor" ? "rfloor" : "rceil")) throw ParseError("unclosed " + c);
          ++p_;
          return make(K::kFunc, {x}, c == "lfloor" ? "floor" : "ceil");
        }
        if (c == "operatorname") {
          expect_sym("{");
          std::string name = next().s;
          expect_sym("}");
          return function(name);
        }
        if (c == "exp" || function_names().count(c)) return function(c);
        if (greek().count(c)) return var_with_subscript(c);
        throw ParseError("unknown command \\" + c);
      }
      case T::kSym: {
        if (k.s == "(" || k.s == "[") return bracket(k.s);
        if (k.s == "{") {
          NodeP inner = list({"}"});
          expect_sym("}");
          if (inner->k == K::kList) return make(K::kSet, inner->c);
          return inner;
        }
        if (k.s == "|") {
          ++abs_depth_;
          NodeP x = expr();
          expect_sym("|");
          --abs_depth_;
          return make(K::kAbs, {x});
        }
        throw ParseError("unexpected '" + k.s + "'");
      }
      case T::kEnd:
        throw ParseError("unexpected end");
    }
    throw ParseError("unexpected token");
  }

  std::vector<Tok> t_;
  size_t p_ = 0;
  int abs_depth_ = 0;
  int depth_ = 0;
};

}  // namespace

NodeP parse(const std::string& normalized) {
  if (normalized.empty()) throw ParseError("empty");
  Parser p(tokenize(normalized));
  return p.top();
}

// ------------------------------------------------------------------------ evaluation

namespace {

constexpr __int128 kRatLimit = static_cast<__int128>(1000000000000000000LL);

__int128 gcd128(__int128 a, __int128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    __int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

std::optional<Rat> make_rat(__int128 n, __int128 d) {
  if (d == 0) return std::nullopt;
  if (d < 0) {
    n = -n;
    d = -d;
  }
  __int128 g = gcd128(n, d);
  if (g > 1) {
    n /= g;
    d /= g;
  }
  if (n >= kRatLimit || n <= -kRatLimit || d >= kRatLimit) return std::nullopt;
  return Rat{n, d};
}

std::optional<Rat> literal_rat(const std::string& lit) {
  // digits[.digits][e[+-]digits]
  __int128 n = 0, d = 1;
  size_t i = 0;
  bool frac = false;
  int digits = 0;
  for (; i < lit.size(); ++i) {
    char c = lit[i];
    if (is_digit(c)) {
      if (n == 0 && c == '0' && !frac) continue;  // leading zeros
      if (++digits > 17) return std::nullopt;
      n = n * 10 + (c - '0');
      if (frac) d *= 10;
      if (n == 0 && frac) --digits;
    } else if (c == '.') {
      frac = true;
    } else {
      break;
    }
  }
  if (i < lit.size()) {  // exponent
    int e = std::atoi(lit.c_str() + i + 1);
    if (e > 17 || e < -17) return std::nullopt;
    for (int k = 0; k < std::abs(e); ++k) {
      if (e > 0)
        n *= 10;
      else
        d *= 10;
    }
  }
  return make_rat(n, d);
}

std::optional<Rat> add(Rat a, Rat b) {
  return make_rat(a.n * b.d + b.n * a.d, a.d * b.d);
}
std::optional<Rat> mul(Rat a, Rat b) {
  __int128 g1 = gcd128(a.n, b.d), g2 = gcd128(b.n, a.d);
  if (g1 == 0) g1 = 1;
  if (g2 == 0) g2 = 1;
  return make_rat((a.n / g1) * (b.n / g2), (a.d / g2) * (b.d / g1));
}

}  // namespace

std::optional<Rat> eval_exact(const Node& n) {
  switch (n.k) {
    case K::kNum:
      return literal_rat(n.text);
    case K::kNeg: {
      auto a = eval_exact(*n.c[0]);
      if (!a) return a;
      a->n = -a->n;
      return a;
    }
    case K::kAdd: {
      auto a = eval_exact(*n.c[0]);
      auto b = a ? eval_exact(*n.c[1]) : std::nullopt;
      if (!a || !b) return std::nullopt;
      return add(*a, *b);
    }
    case K::kMul: {
      auto a = eval_exact(*n.c[0]);
      auto b = a ? eval_exact(*n.c[1]) : std::nullopt;
      if (!a || !b) return std::nullopt;
      return mul(*a, *b);
    }
    case K::kDiv: {
      auto a = eval_exact(*n.c[0]);
      auto b = a ? eval_exact(*n.c[1]) : std::nullopt;
      if (!a || !b || b->n == 0) return std::nullopt;
      return mul(*a, Rat{b->d, b->n});
    }
    case K::kPow: {
      auto b = eval_exact(*n.c[0]);
      auto e = b ? eval_exact(*n.c[1]) : std::nullopt;
      if (!b || !e || e->d != 1 || e->n > 128 || e->n < -128) return std::nullopt;
      Rat base = *b;
      __int128 k = e->n;
      if (k < 0) {
        if (base.n == 0) return std::nullopt;
        base = Rat{base.d, base.n};
        k = -k;
      }
      std::optional<Rat> r = make_rat(1, 1);
      for (__int128 j = 0; j < k && r; ++j) r = mul(*r, base);
      return r;
    }
    case K::kFact: {
      auto a = eval_exact(*n.c[0]);
      if (!a || a->d != 1 || a->n < 0 || a->n > 20) return std::nullopt;
      __int128 f = 1;
      for (__int128 j = 2; j <= a->n; ++j) f *= j;
      return make_rat(f, 1);
    }
    case K::kAbs: {
      auto a = eval_exact(*n.c[0]);
      if (a && a->n < 0) a->n = -a->n;
      return a;
    }
    case K::kFunc: {
      if (n.text == "binom") {
        auto a = eval_exact(*n.c[0]);
        auto b = a ? eval_exact(*n.c[1]) : std::nullopt;
        if (!a || !b || a->d != 1 || b->d != 1 || b->n < 0 || b->n > a->n || a->n > 60)
          return std::nullopt;
        __int128 r = 1;
        for (__int128 j = 1; j <= b->n; ++j) r = r * (a->n - b->n + j) / j;
        return make_rat(r, 1);
      }
      if (n.text == "floor" || n.text == "ceil") {
        auto a = eval_exact(*n.c[0]);
        if (!a) return a;
        __int128 q = a->n / a->d;
        if (a->n % a->d != 0) {
          if (n.text == "floor" && a->n < 0) --q;
          if (n.text == "ceil" && a->n > 0) ++q;
        }
        return make_rat(q, 1);
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

namespace {
using C = std::complex<double>;
const double kNaN = std::nan("");

// -0 imaginary parts (from negating a real) would put roots on the other side of the
// branch cut: sqrt(-1) must be i.
C fix_zero(C x) {
  return x.imag() == 0 ? C(x.real(), 0.0) : x;
}

C real_root(C x, double k) {
  x = fix_zero(x);
  // Odd roots of negative reals stay real: \sqrt[3]{-8} = -2.
  if (std::abs(x.imag()) < 1e-300 && x.real() < 0 && std::fmod(k, 2.0) == 1.0)
    return C(-std::pow(-x.real(), 1.0 / k), 0);
  return std::pow(x, 1.0 / k);
}

C cpow(C b, C e) {
  b = fix_zero(b);
  if (b.imag() == 0 && e.imag() == 0) {
    if (b.real() >= 0) return C(std::pow(b.real(), e.real()), 0);
    double ei = std::round(e.real());
    if (ei == e.real()) return C(std::pow(b.real(), ei), 0);
    // A rational power p/q with q odd of a negative real is real, as \sqrt[q]{b}^p is:
    // x^{2/3} and \sqrt[3]{x}^2 agree at negative x.
    for (int q = 3; q <= 15; q += 2) {
      double p = std::round(e.real() * q);
      if (std::abs(p - e.real() * q) < 1e-9) {
        double mag = std::pow(-b.real(), e.real());
        return C(std::fmod(std::abs(p), 2.0) == 1.0 ? -mag : mag, 0);
      }
    }
  }
  if (b == C(0, 0)) return e.real() > 0 ? C(0, 0) : C(kNaN, kNaN);
  return std::pow(b, e);
}
}  // namespace

C eval_num(const Node& n, const Env& env) {
  switch (n.k) {
    case K::kNum:
      return C(std::strtod(n.text.c_str(), nullptr), 0);
    case K::kVar: {
      auto it = env.find(n.text);
      return it == env.end() ? C(kNaN, kNaN) : it->second;
    }
    case K::kPi:
      return C(M_PI, 0);
    case K::kE:
      return C(M_E, 0);
    case K::kI:
      return C(0, 1);
    case K::kInf:
      return C(INFINITY, 0);
    case K::kAdd:
      return eval_num(*n.c[0], env) + eval_num(*n.c[1], env);
    case K::kNeg:
      return -eval_num(*n.c[0], env);
    case K::kMul:
      return eval_num(*n.c[0], env) * eval_num(*n.c[1], env);
    case K::kDiv: {
      C d = eval_num(*n.c[1], env);
      if (d == C(0, 0)) return C(kNaN, kNaN);
      return eval_num(*n.c[0], env) / d;
    }
    case K::kPow:
      return cpow(eval_num(*n.c[0], env), eval_num(*n.c[1], env));
    case K::kFact: {
      C x = eval_num(*n.c[0], env);
      if (x.imag() != 0 || x.real() < 0 || x.real() > 170) return C(kNaN, kNaN);
      return C(std::tgamma(x.real() + 1), 0);
    }
    case K::kAbs:
      return C(std::abs(eval_num(*n.c[0], env)), 0);
    case K::kFunc: {
      const std::string& f = n.text;
      C x = eval_num(*n.c[0], env);
      if (f == "sqrt") return real_root(x, 2);
      if (f == "root") {
        C k = eval_num(*n.c[1], env);
        return real_root(x, k.real());
      }
      if (f == "sin") return std::sin(x);
      if (f == "cos") return std::cos(x);
      if (f == "tan") return std::tan(x);
      if (f == "sec") return 1.0 / std::cos(x);
      if (f == "csc") return 1.0 / std::sin(x);
      if (f == "cot") return 1.0 / std::tan(x);
      if (f == "arcsin") return std::asin(x);
      if (f == "arccos") return std::acos(x);
      if (f == "arctan") return std::atan(x);
      if (f == "sinh") return std::sinh(x);
      if (f == "cosh") return std::cosh(x);
      if (f == "tanh") return std::tanh(x);
      if (f == "ln") return std::log(x);
      if (f == "log") return std::log(x);  // natural log (math convention) unless based
      if (f == "lg") return std::log10(x);
      if (f == "exp") return std::exp(x);
      if (f == "abs") return C(std::abs(x), 0);
      if (f == "floor" && x.imag() == 0) return C(std::floor(x.real()), 0);
      if (f == "ceil" && x.imag() == 0) return C(std::ceil(x.real()), 0);
      if (f == "binom") {
        C k = eval_num(*n.c[1], env);
        return C(std::tgamma(x.real() + 1) / std::tgamma(k.real() + 1) /
                     std::tgamma(x.real() - k.real() + 1),
                 0);
      }
      return C(kNaN, kNaN);
    }
    default:
      return C(kNaN, kNaN);
  }
}

void collect_vars(const Node& n, std::vector<std::string>& out) {
  if (n.k == K::kVar && std::find(out.begin(), out.end(), n.text) == out.end())
    out.push_back(n.text);
  for (const auto& c : n.c) collect_vars(*c, out);
}

bool is_scalar(const Node& n) {
  switch (n.k) {
    case K::kTuple:
    case K::kSet:
    case K::kList:
    case K::kUnion:
    case K::kRel:
    case K::kMatrix:
    case K::kText:
    case K::kPm:
      return false;
    default:
      break;
  }
  for (const auto& c : n.c)
    if (!is_scalar(*c)) return false;
  return true;
}

}  // namespace retort::math::detail
