// Lexer and recursive-descent parser for the Jinja subset. The lexer applies whitespace
// control ({%- -%}, trim_blocks, lstrip_blocks) while cutting the source into text and tag
// tokens, so the tree holds text exactly as it will be printed.
#include <cstring>
#include <set>

#include "template/ast.h"
#include "util/error.h"
#include "util/pyvalue.h"

namespace retort::tmpl {

std::pair<int, int> line_col(std::string_view source, uint32_t pos) {
  int line = 1;
  int col = 1;
  for (size_t i = 0; i < pos && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return {line, col};
}

std::string where(std::string_view name, std::string_view source, uint32_t pos) {
  auto [line, col] = line_col(source, pos);
  return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(col);
}

namespace {

enum class Tok : uint8_t {
  kData,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof
};

struct Token {
  Tok type;
  uint32_t pos;
  std::string text;
};

const char* tok_desc(Tok t) {
  switch (t) {
    case Tok::kData:
      return "text";
    case Tok::kVarBegin:
      return "'{{'";
    case Tok::kVarEnd:
      return "'}}'";
    case Tok::kBlockBegin:
      return "'{%'";
    case Tok::kBlockEnd:
      return "'%}'";
    case Tok::kName:
      return "name";
    case Tok::kString:
      return "string";
    case Tok::kInt:
      return "integer";
    case Tok::kFloat:
      return "float";
    case Tok::kOp:
      return "operator";
    case Tok::kEof:
      return "end of template";
  }
  return "token";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

class Lexer {
 public:
  Lexer(std::string_view src, const std::string& name, const TemplateOptions& opt)
      : src_(src), name_(name), opt_(opt) {}

  std::vector<Token> run() {
    size_t pos = 0;
    bool strip_next = false;
    while (true) {
      size_t start = find_open(pos);
      size_t data_end = start == std::string_view::npos ? src_.size() : start;
      std::string data(src_.substr(pos, data_end - pos));
      if (strip_next) {
        size_t k = 0;
        while (k < data.size() && is_space(data[k])) ++k;
        data.erase(0, k);
        strip_next = false;
      }
      if (start == std::string_view::npos) {
        emit_data(std::move(data), static_cast<uint32_t>(pos));
        break;
      }
      char kind = src_[start + 1];
      char mod = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (mod == '-') {
        while (!data.empty() && is_space(data.back())) data.pop_back();
      } else if ((kind == '%' || kind == '#') && opt_.lstrip_blocks && mod != '+') {
        size_t k = data.size();
        while (k > 0 && (data[k - 1] == ' ' || data[k - 1] == '\t')) --k;
        if ((k > 0 && data[k - 1] == '\n') || (k == 0 && (pos == 0 || src_[pos - 1] == '\n'))) {
          data.resize(k);
        }
      }
      emit_data(std::move(data), static_cast<uint32_t>(pos));
      size_t p = start + 2 + ((mod == '-' || mod == '+') ? 1 : 0);

      if (kind == '#') {
        size_t end = src_.find("#}", p);
        if (end == std::string_view::npos) fail(start, "unterminated comment", "close it with #}");
        char close_mod = end > p ? src_[end - 1] : '\0';
        pos = end + 2;
        if (close_mod == '-') {
          strip_next = true;
        } else if (opt_.trim_blocks && close_mod != '+' && pos < src_.size() && src_[pos] == '\n') {
          ++pos;
        }
        continue;
      }

      size_t first_token = tokens_.size();
      tokens_.push_back(
          {kind == '{' ? Tok::kVarBegin : Tok::kBlockBegin, static_cast<uint32_t>(start), ""});
      char close_mod = '\0';
      pos = lex_tag(p, kind, start, close_mod);
      if (close_mod == '-') {
        strip_next = true;
      } else if (kind == '%' && opt_.trim_blocks && close_mod != '+' && pos < src_.size() &&
                 src_[pos] == '\n') {
        ++pos;
      }
      if (kind == '%' && tokens_.size() == first_token + 3 &&
          tokens_[first_token + 1].type == Tok::kName && tokens_[first_token + 1].text == "raw") {
        tokens_.resize(first_token);
        pos = lex_raw(pos, start, strip_next);
      }
    }
    tokens_.push_back({Tok::kEof, static_cast<uint32_t>(src_.size()), ""});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what, const std::string& hint = "") {
    throw Error("template syntax error: " + what, where(name_, src_, static_cast<uint32_t>(pos)),
                hint);
  }

  size_t find_open(size_t from) const {
    while (true) {
      size_t p = src_.find('{', from);
      if (p == std::string_view::npos || p + 1 >= src_.size()) return std::string_view::npos;
      char c = src_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      from = p + 1;
    }
  }

  void emit_data(std::string data, uint32_t pos) {
    if (data.empty()) return;
    tokens_.push_back({Tok::kData, pos, std::move(data)});
  }

  // Lexes the inside of {{ }} or {% %} starting at p; returns the offset after the closer.
  size_t lex_tag(size_t p, char kind, size_t open_pos, char& close_mod) {
    const char close0 = kind == '{' ? '}' : '%';
    int depth = 0;
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) {
        fail(open_pos, kind == '{' ? "unclosed '{{'" : "unclosed '{%'",
             kind == '{' ? "close it with }}" : "close it with %}");
      }
      if (depth == 0) {
        size_t q = p;
        char m = '\0';
        if ((src_[q] == '-' || src_[q] == '+') && q + 2 < src_.size() + 0 &&
            src_[q + 1] == close0 && src_[q + 2] == '}') {
          m = src_[q];
          ++q;
        }
        if (q + 1 < src_.size() && src_[q] == close0 && src_[q + 1] == '}') {
          close_mod = m;
          tokens_.push_back(
              {kind == '{' ? Tok::kVarEnd : Tok::kBlockEnd, static_cast<uint32_t>(p), ""});
          return q + 2;
        }
      }
      char c = src_[p];
      uint32_t tpos = static_cast<uint32_t>(p);
      if (is_name_start(c)) {
        size_t s = p;
        while (p < src_.size() && is_name_char(src_[p])) ++p;
        tokens_.push_back({Tok::kName, tpos, std::string(src_.substr(s, p - s))});
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*",
                                     "/",  "%",  "~",  "(",  ")",  "[",  "]", "{", "}",
                                     ",",  ".",  ":",  "|",  "=",  "<",  ">", ";"};
        std::string op;
        for (const char* o : kOps) {
          size_t n = std::strlen(o);
          if (src_.substr(p, n) == o) {
            op = o;
            break;
          }
        }
        if (op.empty()) fail(p, std::string("unexpected character '") + c + "'");
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        p += op.size();
        tokens_.push_back({Tok::kOp, tpos, std::move(op)});
      }
    }
  }

  size_t lex_number(size_t p) {
    size_t s = p;
    bool after_dot = !tokens_.empty() && tokens_.back().type == Tok::kOp &&
                     tokens_.back().text == "." && tokens_.back().pos + 1 == p;
    auto digits = [&] {
      while (p < src_.size() && (is_digit(src_[p]) || (src_[p] == '_' && p + 1 < src_.size() &&
                                                       is_digit(src_[p + 1])))) {
        ++p;
      }
    };
    digits();
    bool is_float = false;
    if (!after_dot && p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      is_float = true;
      ++p;
      digits();
    }
    if (!after_dot && p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        is_float = true;
        p = q;
        digits();
      }
    }
    std::string text;
    for (size_t i = s; i < p; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    tokens_.push_back({is_float ? Tok::kFloat : Tok::kInt, static_cast<uint32_t>(s), text});
    return p;
  }

  size_t lex_string(size_t p) {
    char q = src_[p];
    size_t s = p++;
    std::string out;
    while (true) {
      if (p >= src_.size()) fail(s, "unterminated string", "close the string literal");
      char c = src_[p];
      if (c == q) {
        ++p;
        break;
      }
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) fail(s, "unterminated string", "close the string literal");
      p = py_decode_escape(src_, p + 1, out);
      if (p == std::string_view::npos) fail(s, "bad escape in string");
    }
    tokens_.push_back({Tok::kString, static_cast<uint32_t>(s), std::move(out)});
    return p;
  }

  // After {% raw %}: everything up to {% endraw %} is text.
  size_t lex_raw(size_t pos, size_t open_pos, bool& strip_next) {
    size_t search = pos;
    while (true) {
      size_t p = src_.find("{%", search);
      if (p == std::string_view::npos) {
        fail(open_pos, "missing {% endraw %}", "close the raw block with {% endraw %}");
      }
      size_t q = p + 2;
      char mod = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod = src_[q++];
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.substr(q, 6) != "endraw") {
        search = p + 2;
        continue;
      }
      q += 6;
      while (q < src_.size() && is_space(src_[q])) ++q;
      char close_mod = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) close_mod = src_[q++];
      if (src_.substr(q, 2) != "%}") {
        search = p + 2;
        continue;
      }
      std::string data(src_.substr(pos, p - pos));
      if (strip_next) {
        size_t k = 0;
        while (k < data.size() && is_space(data[k])) ++k;
        data.erase(0, k);
      }
      if (mod == '-') {
        while (!data.empty() && is_space(data.back())) data.pop_back();
      }
      emit_data(std::move(data), static_cast<uint32_t>(pos));
      size_t after = q + 2;
      strip_next = close_mod == '-';
      if (!strip_next && opt_.trim_blocks && close_mod != '+' && after < src_.size() &&
          src_[after] == '\n') {
        ++after;
      }
      return after;
    }
  }

  std::string_view src_;
  const std::string& name_;
  const TemplateOptions& opt_;
  std::vector<Token> tokens_;
};

// ---------------------------------------------------------------------------------------

const std::set<std::string_view> kKnownTags = {
    "if",    "elif",     "else",  "endif",    "for",        "endfor",
    "set",   "endset",   "macro", "endmacro", "filter",     "endfilter",
    "break", "continue", "raw",   "endraw",   "generation", "endgeneration"};

// Checked at parse time, as Jinja does, so a typo fails before any document is rendered.
const std::set<std::string_view> kFilters = {
    "abs",      "attr",     "capitalize", "center", "count",         "d",           "default",
    "dictsort", "e",        "escape",     "first",  "float",         "forceescape", "format",
    "indent",   "int",      "items",      "join",   "last",          "length",      "list",
    "lower",    "map",      "max",        "min",    "regex_replace", "reject",      "rejectattr",
    "replace",  "reverse",  "round",      "safe",   "select",        "selectattr",  "sort",
    "string",   "sum",      "title",      "tojson", "trim",          "truncate",    "unique",
    "upper",    "wordcount"};
const std::set<std::string_view> kTests = {
    "boolean", "callable", "defined",  "divisibleby", "eq",      "equalto",   "escaped", "even",
    "false",   "float",    "ge",       "greaterthan", "gt",      "in",        "integer", "iterable",
    "le",      "lessthan", "lower",    "lt",          "mapping", "ne",        "none",    "number",
    "odd",     "sameas",   "sequence", "string",      "true",    "undefined", "upper"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view src, const std::string& name)
      : toks_(std::move(tokens)), src_(src), name_(name) {}

  Body parse() {
    Body body = parse_body({});
    return body;
  }

 private:
  [[noreturn]] void fail(uint32_t pos, const std::string& what, const std::string& hint = "") {
    throw Error("template syntax error: " + what, where(name_, src_, pos), hint);
  }

  const Token& cur() const { return toks_[i_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < toks_.size()) ++i_;
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().text == n; }
  bool eat_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool eat_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }
  std::string describe(const Token& t) const {
    if (t.type == Tok::kName || t.type == Tok::kOp) return "'" + t.text + "'";
    if (t.type == Tok::kInt || t.type == Tok::kFloat) return t.text;
    return tok_desc(t.type);
  }
  void expect_op(std::string_view op) {
    if (!eat_op(op)) fail(cur().pos, "expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) fail(cur().pos, "expected a name, got " + describe(cur()));
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Tok::kBlockEnd) {
      fail(cur().pos, "expected '%}', got " + describe(cur()));
    }
    advance();
  }

  ExprPtr make(ExprKind kind, uint32_t pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // Statements -----------------------------------------------------------------------

  // Parses until a block tag whose name is in `stop`; leaves the parser on that name.
  Body parse_body(const std::vector<std::string_view>& stop) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::kEof) {
        if (!stop.empty()) {
          fail(t.pos, "unexpected end of template, expected {% " + std::string(stop.back()) + " %}",
               "a block tag was opened but never closed");
        }
        return body;
      }
      if (t.type == Tok::kData) {
        Stmt s;
        s.kind = StmtKind::kText;
        s.pos = t.pos;
        s.text = t.text;
        body.push_back(std::move(s));
        advance();
        continue;
      }
      if (t.type == Tok::kVarBegin) {
        Stmt s;
        s.kind = StmtKind::kOutput;
        s.pos = t.pos;
        advance();
        s.expr = parse_tuple_expr();
        if (cur().type != Tok::kVarEnd) fail(cur().pos, "expected '}}', got " + describe(cur()));
        advance();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != Tok::kBlockBegin) fail(t.pos, "unexpected " + describe(t));
      const Token& tag = peek();
      if (tag.type != Tok::kName) fail(tag.pos, "expected a tag name, got " + describe(tag));
      for (auto s : stop) {
        if (tag.text == s) {
          advance();  // leave the parser on the tag name
          return body;
        }
      }
      uint32_t pos = t.pos;
      advance();
      body.push_back(parse_statement(pos, stop));
    }
  }

  Stmt parse_statement(uint32_t pos, const std::vector<std::string_view>& stop) {
    const std::string tag = cur().text;
    uint32_t tag_pos = cur().pos;
    advance();
    Stmt s;
    s.pos = pos;
    if (tag == "if") return parse_if(std::move(s));
    if (tag == "for") return parse_for(std::move(s));
    if (tag == "set") return parse_set(std::move(s));
    if (tag == "macro") return parse_macro(std::move(s));
    if (tag == "filter") {
      s.kind = StmtKind::kFilterBlock;
      s.filter = parse_filter_chain(nullptr);
      expect_block_end();
      s.body = parse_body({"endfilter"});
      advance();
      expect_block_end();
      return s;
    }
    if (tag == "generation") {
      s.kind = StmtKind::kBlock;
      expect_block_end();
      s.body = parse_body({"endgeneration"});
      advance();
      expect_block_end();
      return s;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail(tag_pos, "'" + tag + "' outside of a for loop");
      s.kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      expect_block_end();
      return s;
    }
    if (kKnownTags.count(tag)) {
      std::string expected =
          stop.empty() ? "" : ", expected {% " + std::string(stop.back()) + " %}";
      fail(tag_pos, "unexpected '" + tag + "'" + expected);
    }
    fail(tag_pos, "unknown tag '" + tag + "'",
         "retort's Jinja subset supports if, for, set, macro, filter, raw, break, continue "
         "(see docs/templates.md)");
  }

  Stmt parse_if(Stmt s) {
    s.kind = StmtKind::kIf;
    while (true) {
      IfBranch br;
      br.cond = parse_expression();
      expect_block_end();
      br.body = parse_body({"elif", "else", "endif"});
      s.branches.push_back(std::move(br));
      std::string tag = cur().text;
      advance();
      if (tag == "elif") continue;
      if (tag == "else") {
        expect_block_end();
        s.else_body = parse_body({"endif"});
        advance();
      }
      expect_block_end();
      return s;
    }
  }

  Stmt parse_for(Stmt s) {
    s.kind = StmtKind::kFor;
    bool paren = eat_op("(");
    s.targets.push_back(expect_name());
    while (eat_op(",")) s.targets.push_back(expect_name());
    if (paren) expect_op(")");
    if (!eat_name("in")) fail(cur().pos, "expected 'in', got " + describe(cur()));
    s.expr = parse_tuple_expr(/*with_cond=*/false);
    if (eat_name("if")) s.cond = parse_expression();
    if (is_name("recursive")) {
      fail(cur().pos, "recursive for loops are not supported", "see docs/templates.md");
    }
    expect_block_end();
    ++loop_depth_;
    s.body = parse_body({"else", "endfor"});
    --loop_depth_;
    std::string tag = cur().text;
    advance();
    if (tag == "else") {
      expect_block_end();
      s.else_body = parse_body({"endfor"});
      advance();
    }
    expect_block_end();
    return s;
  }

  Stmt parse_set(Stmt s) {
    s.targets.push_back(expect_name());
    if (eat_op(".")) {
      s.attr = expect_name();
    } else {
      while (eat_op(",")) s.targets.push_back(expect_name());
    }
    if (eat_op("=")) {
      s.kind = StmtKind::kSet;
      s.expr = parse_tuple_expr();
      expect_block_end();
      return s;
    }
    if (!s.attr.empty() || s.targets.size() != 1) fail(cur().pos, "expected '='");
    s.kind = StmtKind::kSetBlock;
    if (is_op("|")) s.filter = parse_filter_chain(nullptr);
    expect_block_end();
    s.body = parse_body({"endset"});
    advance();
    expect_block_end();
    return s;
  }

  Stmt parse_macro(Stmt s) {
    s.kind = StmtKind::kMacro;
    s.targets.push_back(expect_name());
    expect_op("(");
    while (!eat_op(")")) {
      Param p;
      p.name = expect_name();
      if (eat_op("=")) p.default_value = parse_expression();
      s.params.push_back(std::move(p));
      if (!is_op(")")) expect_op(",");
    }
    expect_block_end();
    int saved = loop_depth_;
    loop_depth_ = 0;
    s.body = parse_body({"endmacro"});
    loop_depth_ = saved;
    advance();
    expect_block_end();
    return s;
  }

  // `| name(args) | name ...`, starting at the first '|' (or at the name for {% filter %}).
  ExprPtr parse_filter_chain(ExprPtr input) {
    bool first = true;
    while (true) {
      if (!first || is_op("|")) {
        if (!eat_op("|")) break;
      }
      first = false;
      auto f = make(ExprKind::kFilter, cur().pos);
      f->name = expect_name();
      if (!kFilters.count(f->name)) {
        fail(f->pos, "unknown filter '" + f->name + "'",
             "see docs/templates.md for the supported filters");
      }
      if (is_op("(")) parse_call_args(f->args);
      f->target = std::move(input);
      input = std::move(f);
    }
    return input;
  }

  // Expressions ----------------------------------------------------------------------

  ExprPtr parse_tuple_expr(bool with_cond = true) {
    uint32_t pos = cur().pos;
    ExprPtr first = parse_expression(with_cond);
    if (!is_op(",")) return first;
    auto t = make(ExprKind::kTuple, pos);
    t->items.push_back(std::move(first));
    while (eat_op(",")) {
      if (cur().type == Tok::kBlockEnd || cur().type == Tok::kVarEnd || is_op("=") || is_op(")")) {
        break;
      }
      t->items.push_back(parse_expression(with_cond));
    }
    return t;
  }

  ExprPtr parse_expression(bool with_cond = true) {
    uint32_t pos = cur().pos;
    ExprPtr e = parse_or();
    if (with_cond && is_name("if")) {
      advance();
      auto c = make(ExprKind::kCond, pos);
      c->items.push_back(std::move(e));
      c->items.push_back(parse_or());
      c->items.push_back(eat_name("else") ? parse_expression() : nullptr);
      return c;
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      auto e = make(ExprKind::kOr, cur().pos);
      advance();
      e->items.push_back(std::move(left));
      e->items.push_back(parse_and());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      auto e = make(ExprKind::kAnd, cur().pos);
      advance();
      e->items.push_back(std::move(left));
      e->items.push_back(parse_not());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      auto e = make(ExprKind::kNot, cur().pos);
      advance();
      e->target = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    uint32_t pos = cur().pos;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      CmpOp op;
      if (is_op("==")) {
        op = CmpOp::kEq;
      } else if (is_op("!=")) {
        op = CmpOp::kNe;
      } else if (is_op("<")) {
        op = CmpOp::kLt;
      } else if (is_op("<=")) {
        op = CmpOp::kLe;
      } else if (is_op(">")) {
        op = CmpOp::kGt;
      } else if (is_op(">=")) {
        op = CmpOp::kGe;
      } else if (is_name("in")) {
        op = CmpOp::kIn;
      } else if (is_name("not") && peek().type == Tok::kName && peek().text == "in") {
        op = CmpOp::kNotIn;
        advance();
      } else {
        break;
      }
      advance();
      if (!cmp) {
        cmp = make(ExprKind::kCompare, pos);
        cmp->items.push_back(std::move(first));
      }
      cmp->cmp_ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr binary(BinOp op, ExprPtr l, ExprPtr r, uint32_t pos) {
    auto e = make(ExprKind::kBinary, pos);
    e->bin_op = op;
    e->items.push_back(std::move(l));
    e->items.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      BinOp op = is_op("+") ? BinOp::kAdd : BinOp::kSub;
      uint32_t pos = cur().pos;
      advance();
      left = binary(op, std::move(left), parse_concat(), pos);
    }
    return left;
  }

  ExprPtr parse_concat() {
    uint32_t pos = cur().pos;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make(ExprKind::kConcat, pos);
    e->items.push_back(std::move(first));
    while (eat_op("~")) e->items.push_back(parse_math2());
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (true) {
      BinOp op;
      if (is_op("*")) {
        op = BinOp::kMul;
      } else if (is_op("/")) {
        op = BinOp::kDiv;
      } else if (is_op("//")) {
        op = BinOp::kFloorDiv;
      } else if (is_op("%")) {
        op = BinOp::kMod;
      } else {
        break;
      }
      uint32_t pos = cur().pos;
      advance();
      left = binary(op, std::move(left), parse_pow(), pos);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      uint32_t pos = cur().pos;
      advance();
      left = binary(BinOp::kPow, std::move(left), parse_unary(true), pos);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, cur().pos);
      advance();
      node->target = parse_unary(false);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    uint32_t pos = t.pos;
    switch (t.type) {
      case Tok::kName: {
        auto e = make(ExprKind::kConst, pos);
        if (t.text == "true" || t.text == "True") {
          e->value = true;
        } else if (t.text == "false" || t.text == "False") {
          e->value = false;
        } else if (t.text == "none" || t.text == "None") {
          e->value = nullptr;
        } else {
          e->kind = ExprKind::kName;
          e->name = t.text;
        }
        advance();
        return e;
      }
      case Tok::kString: {
        std::string s;
        while (cur().type == Tok::kString) {
          s += cur().text;
          advance();
        }
        auto e = make(ExprKind::kConst, pos);
        e->value = std::move(s);
        return e;
      }
      case Tok::kInt: {
        auto e = make(ExprKind::kConst, pos);
        try {
          e->value = static_cast<int64_t>(std::stoll(t.text));
        } catch (const std::exception&) {
          e->value = std::stod(t.text);
        }
        advance();
        return e;
      }
      case Tok::kFloat: {
        auto e = make(ExprKind::kConst, pos);
        e->value = std::stod(t.text);
        advance();
        return e;
      }
      case Tok::kOp:
        if (t.text == "(") {
          advance();
          if (eat_op(")")) return make(ExprKind::kTuple, pos);
          ExprPtr inner = parse_expression();
          if (eat_op(")")) return inner;
          auto tup = make(ExprKind::kTuple, pos);
          tup->items.push_back(std::move(inner));
          while (eat_op(",")) {
            if (is_op(")")) break;
            tup->items.push_back(parse_expression());
          }
          expect_op(")");
          return tup;
        }
        if (t.text == "[") {
          advance();
          auto list = make(ExprKind::kList, pos);
          while (!eat_op("]")) {
            list->items.push_back(parse_expression());
            if (!is_op("]")) expect_op(",");
          }
          return list;
        }
        if (t.text == "{") {
          advance();
          auto dict = make(ExprKind::kDict, pos);
          while (!eat_op("}")) {
            dict->items.push_back(parse_expression());
            expect_op(":");
            dict->items.push_back(parse_expression());
            if (!is_op("}")) expect_op(",");
          }
          return dict;
        }
        break;
      default:
        break;
    }
    fail(pos, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".")) {
        uint32_t pos = cur().pos;
        advance();
        if (cur().type == Tok::kInt) {
          auto e = make(ExprKind::kItem, pos);
          e->target = std::move(node);
          auto idx = make(ExprKind::kConst, cur().pos);
          idx->value = static_cast<int64_t>(std::stoll(cur().text));
          advance();
          e->items.push_back(std::move(idx));
          node = std::move(e);
          continue;
        }
        auto e = make(ExprKind::kAttr, pos);
        e->name = expect_name();
        e->target = std::move(node);
        node = std::move(e);
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        auto e = make(ExprKind::kCall, node->pos);
        parse_call_args(e->args);
        e->target = std::move(node);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    uint32_t pos = cur().pos;
    expect_op("[");
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_tuple_expr();
      if (eat_op("]")) {
        auto e = make(ExprKind::kItem, pos);
        e->target = std::move(node);
        e->items.push_back(std::move(start));
        return e;
      }
    }
    expect_op(":");
    auto e = make(ExprKind::kSlice, pos);
    e->target = std::move(node);
    e->items.push_back(std::move(start));
    e->items.push_back((is_op("]") || is_op(":")) ? nullptr : parse_expression());
    ExprPtr step;
    if (eat_op(":") && !is_op("]")) step = parse_expression();
    e->items.push_back(std::move(step));
    expect_op("]");
    return e;
  }

  void parse_call_args(std::vector<Arg>& args) {
    expect_op("(");
    while (!eat_op(")")) {
      Arg a;
      if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "=") {
        a.name = cur().text;
        advance();
        advance();
      } else if (is_op("*") || is_op("**")) {
        fail(cur().pos, "*args and **kwargs in calls are not supported");
      } else if (!args.empty() && !args.back().name.empty()) {
        fail(cur().pos, "positional argument after a keyword argument");
      }
      a.value = parse_expression();
      args.push_back(std::move(a));
      if (!is_op(")")) expect_op(",");
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter_chain(std::move(node));
      } else if (is_name("is")) {
        auto e = make(ExprKind::kTest, cur().pos);
        advance();
        e->negated = eat_name("not");
        uint32_t name_pos = cur().pos;
        e->name = expect_name();
        if (!kTests.count(e->name)) {
          fail(name_pos, "unknown test '" + e->name + "'",
               "see docs/templates.md for the supported tests");
        }
        if (is_op("(")) {
          parse_call_args(e->args);
        } else if ((cur().type == Tok::kName || cur().type == Tok::kString ||
                    cur().type == Tok::kInt || cur().type == Tok::kFloat || is_op("[") ||
                    is_op("{")) &&
                   !(is_name("else") || is_name("or") || is_name("and") || is_name("if") ||
                     is_name("in") || is_name("not") || is_name("is"))) {
          Arg a;
          a.value = parse_postfix(parse_primary());
          e->args.push_back(std::move(a));
        }
        e->target = std::move(node);
        node = std::move(e);
      } else if (is_op("(")) {
        auto e = make(ExprKind::kCall, node->pos);
        parse_call_args(e->args);
        e->target = std::move(node);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  std::string_view src_;
  const std::string& name_;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source, const std::string& name,
                    const TemplateOptions& options) {
  std::vector<Token> tokens = Lexer(source, name, options).run();
  return Parser(std::move(tokens), source, name).parse();
}

}  // namespace retort::tmpl
