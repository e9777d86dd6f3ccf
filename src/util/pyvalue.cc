#include "util/pyvalue.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <utf8proc.h>

#include "util/error.h"

namespace retort {

// ---------------------------------------------------------------------------------------
// UTF-8

char32_t decode_utf8(std::string_view s, size_t& pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  if (c < 0x80) {
    ++pos;
    return c;
  }
  size_t need = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    need = 1;
    cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    need = 2;
    cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    need = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    ++pos;
    return 0xFFFD;
  }
  if (pos + need >= s.size()) {
    ++pos;
    return 0xFFFD;
  }
  for (size_t i = 1; i <= need; ++i) {
    unsigned char cc = byte(pos + i);
    if ((cc & 0xC0) != 0x80) {
      ++pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;
    return 0xFFFD;
  }
  pos += need + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t py_len(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size();) {
    decode_utf8(s, pos);
    ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Character classes

bool py_isspace(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {

// Code points of category No whose Numeric_Type is Digit: Python's isdigit() accepts them.
bool is_other_digit(char32_t c) {
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kRanges[] = {
      {0x00B2, 0x00B3},   {0x00B9, 0x00B9},   {0x1369, 0x1371},   {0x19DA, 0x19DA},
      {0x2070, 0x2070},   {0x2074, 0x2079},   {0x2080, 0x2089},   {0x2460, 0x2468},
      {0x2474, 0x247C},   {0x2488, 0x2490},   {0x24EA, 0x24EA},   {0x24F5, 0x24FD},
      {0x24FF, 0x24FF},   {0x2776, 0x277E},   {0x2780, 0x2788},   {0x278A, 0x2792},
      {0x10A40, 0x10A43}, {0x10E60, 0x10E68}, {0x11052, 0x1105A}, {0x1E8C7, 0x1E8CF},
      {0x1F100, 0x1F10A},
  };
  for (const auto& r : kRanges) {
    if (c >= r.lo && c <= r.hi) return true;
  }
  return false;
}

bool is_digit_cp(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  if (cat == UTF8PROC_CATEGORY_ND) return true;
  return cat == UTF8PROC_CATEGORY_NO && is_other_digit(c);
}

// Python's str.isprintable() for one code point: false for Cc, Cf, Cs, Co, Cn, Zl, Zp and
// Zs other than the ASCII space.
bool is_printable_cp(char32_t c) {
  if (c < 0x80) return c >= 0x20 && c < 0x7F;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xF];
}

}  // namespace

bool py_isdigit(std::string_view s) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();) {
    if (!is_digit_cp(decode_utf8(s, pos))) return false;
  }
  return true;
}

std::string py_lstrip(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!py_isspace(decode_utf8(s, next))) break;
    pos = next;
  }
  return std::string(s.substr(pos));
}

std::string py_rstrip(std::string_view s) {
  // Walk forward remembering where the trailing run of whitespace starts.
  size_t end = 0;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    if (!py_isspace(c)) end = pos;
  }
  return std::string(s.substr(0, end));
}

std::string py_strip(std::string_view s) {
  return py_rstrip(py_lstrip(s));
}

bool py_truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return v.get<bool>();
    case Json::value_t::number_integer:
      return v.get<int64_t>() != 0;
    case Json::value_t::number_unsigned:
      return v.get<uint64_t>() != 0;
    case Json::value_t::number_float:
      return v.get<double>() != 0.0;
    case Json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return !v.empty();
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------
// str() and repr()

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  std::string out;
  if (!sci.empty() && sci[0] == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  // Python's repr: the decimal point sits decpt digits into `digits`.
  int decpt = exp + 1;
  int ndigits = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    int x = decpt - 1;
    out += x < 0 ? '-' : '+';
    x = std::abs(x);
    if (x < 10) out += '0';
    out += std::to_string(x);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= ndigits) {
    out += digits;
    out.append(static_cast<size_t>(decpt - ndigits), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<size_t>(decpt));
  }
  return out;
}

namespace {

// Python's repr() of s, appended to out.
void str_repr_into(std::string& out, std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  if (out.empty()) out.reserve(s.size() + 2);
  out += quote;
  for (size_t pos = 0; pos < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[pos]);
    if (b >= 0x20 && b < 0x7F) {
      // A run of printable ASCII other than the quote and backslash is copied as it is.
      size_t run = pos;
      while (run < s.size()) {
        unsigned char x = static_cast<unsigned char>(s[run]);
        if (x < 0x20 || x >= 0x7F || x == static_cast<unsigned char>(quote) || x == '\\') break;
        ++run;
      }
      if (run > pos) {
        out.append(s.data() + pos, run - pos);
        pos = run;
        continue;
      }
      ++pos;
      out += '\\';
      out += static_cast<char>(b);
      continue;
    }
    size_t start = pos;
    char32_t c = decode_utf8(s, pos);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (is_printable_cp(c)) {
      out.append(s.substr(start, pos - start));
    } else if (c < 0x100) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c < 0x10000) {
      out += "\\u";
      append_hex(out, c, 4);
    } else {
      out += "\\U";
      append_hex(out, c, 8);
    }
  }
  out += quote;
}

}  // namespace

std::string py_str_repr(std::string_view s) {
  std::string out;
  str_repr_into(out, s);
  return out;
}

namespace {

void repr_into(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "None";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "True" : "False";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      out += py_float_repr(v.get<double>());
      return;
    case Json::value_t::string:
      str_repr_into(out, v.get_ref<const std::string&>());
      return;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, item);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        str_repr_into(out, key);
        out += ": ";
        repr_into(out, item);
      }
      out += '}';
      return;
    }
    default:
      out += "None";
      return;
  }
}

}  // namespace

std::string py_repr(const Json& v) {
  std::string out;
  repr_into(out, v);
  return out;
}

std::string py_str(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return py_repr(v);
}

// ---------------------------------------------------------------------------------------
// json.dumps

namespace {

// Printable ASCII that json.dumps writes as it is (not '"' or '\\').
constexpr bool plain_json_char(unsigned char b) {
  return b >= 0x20 && b < 0x7F && b != '"' && b != '\\';
}

void json_string_into(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t pos = 0; pos < s.size();) {
    // The common run of plain characters is appended at once.
    size_t plain = pos;
    while (plain < s.size() && plain_json_char(static_cast<unsigned char>(s[plain]))) ++plain;
    if (plain > pos) {
      out.append(s.data() + pos, plain - pos);
      pos = plain;
      continue;
    }
    unsigned char b = static_cast<unsigned char>(s[pos]);
    if (b < 0x80) {
      ++pos;
      switch (b) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (b < 0x20 || (ensure_ascii && b == 0x7F)) {
            out += "\\u";
            append_hex(out, b, 4);
          } else {
            out += static_cast<char>(b);
          }
      }
      continue;
    }
    size_t start = pos;
    char32_t c = decode_utf8(s, pos);
    if (!ensure_ascii) {
      out.append(s.substr(start, pos - start));
    } else if (c < 0x10000) {
      out += "\\u";
      append_hex(out, c, 4);
    } else {
      char32_t v = c - 0x10000;
      out += "\\u";
      append_hex(out, 0xD800 + (v >> 10), 4);
      out += "\\u";
      append_hex(out, 0xDC00 + (v & 0x3FF), 4);
    }
  }
  out += '"';
}

void dumps_into(std::string& out, const Json& v, int indent, bool ensure_ascii, bool sort_keys,
                int level) {
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(lvl), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
      } else {
        out += py_float_repr(d);
      }
      return;
    }
    case Json::value_t::string:
      json_string_into(out, v.get_ref<const std::string&>(), ensure_ascii);
      return;
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        dumps_into(out, item, indent, ensure_ascii, sort_keys, level + 1);
      }
      if (indent >= 0) newline(level);
      out += ']';
      return;
    }
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      auto member = [&](const std::string& key, const Json& item) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        json_string_into(out, key, ensure_ascii);
        out += ": ";
        dumps_into(out, item, indent, ensure_ascii, sort_keys, level + 1);
      };
      if (sort_keys) {
        std::vector<std::pair<const std::string*, const Json*>> entries;
        entries.reserve(v.size());
        for (auto it = v.begin(); it != v.end(); ++it) entries.emplace_back(&it.key(), &it.value());
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return *a.first < *b.first; });
        for (const auto& [key, item] : entries) member(*key, *item);
      } else {
        for (auto it = v.begin(); it != v.end(); ++it) member(it.key(), it.value());
      }
      if (indent >= 0) newline(level);
      out += '}';
      return;
    }
    default:
      out += "null";
      return;
  }
}

}  // namespace

void append_py_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  json_string_into(out, s, ensure_ascii);
}

std::string py_json_dumps(const Json& v, int indent, bool ensure_ascii, bool sort_keys) {
  std::string out;
  dumps_into(out, v, indent, ensure_ascii, sort_keys, 0);
  return out;
}

void append_py_json_dumps(std::string& out, const Json& v, int indent, bool ensure_ascii,
                          bool sort_keys) {
  dumps_into(out, v, indent, ensure_ascii, sort_keys, 0);
}

// ---------------------------------------------------------------------------------------
// ast.literal_eval

namespace {

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : s_(text) {}

  Json parse() {
    skip_space();
    Json v = parse_value();
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the literal");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("not a Python literal: " + what, "offset " + std::to_string(pos_),
                "ast.literal_eval accepts only numbers, strings, lists, tuples, dicts, sets, "
                "True, False and None");
  }

  void skip_space() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
        pos_ += 2;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  static bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  static bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

  Json parse_value() {
    skip_space();
    if (pos_ >= s_.size()) fail("unexpected end of text");
    char c = s_[pos_];
    if (c == '[') {
      ++pos_;
      return parse_sequence(']');
    }
    if (c == '(') {
      ++pos_;
      return parse_paren();
    }
    if (c == '{') {
      ++pos_;
      return parse_brace();
    }
    if (c == '-' || c == '+') {
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() ||
          !(std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) {
        fail("a sign must be followed by a number");
      }
      Json n = parse_number();
      if (c == '-') {
        if (n.is_number_float()) return Json(-n.get<double>());
        if (n.is_number_unsigned()) {
          uint64_t u = n.get<uint64_t>();
          if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
            return Json(static_cast<int64_t>(0 - u));
          }
          return Json(-static_cast<double>(u));
        }
        return Json(-n.get<int64_t>());
      }
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < s_.size() &&
         std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      return parse_number();
    }
    if (c == '\'' || c == '"') return parse_strings();
    if (is_ident_start(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
      std::string_view word = s_.substr(start, pos_ - start);
      if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
        std::string prefix = std::string(word);
        for (auto& ch : prefix)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (prefix == "r" || prefix == "u") {
          pos_ = start;
          return parse_strings();
        }
        if (prefix == "b" || prefix == "br" || prefix == "rb")
          fail("bytes literals are not supported");
        fail("f-strings are not literals");
      }
      if (word == "True") return Json(true);
      if (word == "False") return Json(false);
      if (word == "None") return Json(nullptr);
      if (word == "set") {
        if (eat('(') && eat(')')) return Json::array();
      }
      pos_ = start;
      fail("name '" + std::string(word) + "' is not a literal");
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  Json parse_sequence(char close) {
    Json arr = Json::array();
    while (true) {
      if (eat(close)) return arr;
      arr.push_back(parse_value());
      if (eat(',')) continue;
      if (eat(close)) return arr;
      fail(std::string("expected ',' or '") + close + "'");
    }
  }

  Json parse_paren() {
    if (eat(')')) return Json::array();
    Json first = parse_value();
    if (eat(')')) return first;  // parenthesised value, not a tuple
    if (!eat(',')) fail("expected ',' or ')'");
    Json arr = Json::array();
    arr.push_back(std::move(first));
    while (true) {
      if (eat(')')) return arr;
      arr.push_back(parse_value());
      if (eat(',')) continue;
      if (eat(')')) return arr;
      fail("expected ',' or ')'");
    }
  }

  Json parse_brace() {
    if (eat('}')) return Json::object();
    Json first = parse_value();
    if (eat(':')) {
      Json obj = Json::object();
      obj[py_str(first)] = parse_value();
      while (true) {
        if (eat('}')) return obj;
        if (!eat(',')) fail("expected ',' or '}'");
        if (eat('}')) return obj;
        Json key = parse_value();
        if (!eat(':')) fail("expected ':' in a dict");
        obj[py_str(key)] = parse_value();
      }
    }
    // A set: keep first occurrences, in order.
    Json arr = Json::array();
    arr.push_back(std::move(first));
    while (true) {
      if (eat('}')) break;
      if (!eat(',')) fail("expected ',' or '}'");
      if (eat('}')) break;
      Json item = parse_value();
      if (std::find(arr.begin(), arr.end(), item) == arr.end()) arr.push_back(std::move(item));
    }
    return arr;
  }

  Json parse_number() {
    size_t start = pos_;
    auto digits_ok = [&](auto pred) {
      while (pos_ < s_.size() && (pred(s_[pos_]) || s_[pos_] == '_')) ++pos_;
    };
    auto strip_us = [](std::string_view t) {
      std::string out;
      for (char ch : t) {
        if (ch != '_') out += ch;
      }
      return out;
    };
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && std::strchr("xXoObB", s_[pos_ + 1]) != nullptr &&
        s_[pos_ + 1] != '\0') {
      char kind = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos_ + 1])));
      pos_ += 2;
      size_t ds = pos_;
      digits_ok([](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; });
      std::string body = strip_us(s_.substr(ds, pos_ - ds));
      int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
      uint64_t u = 0;
      auto r = std::from_chars(body.data(), body.data() + body.size(), u, base);
      if (body.empty() || r.ec != std::errc() || r.ptr != body.data() + body.size()) {
        fail("bad integer literal");
      }
      return Json(u);
    }
    auto is_dig = [](char ch) { return ch >= '0' && ch <= '9'; };
    digits_ok(is_dig);
    bool is_float = false;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      digits_ok(is_dig);
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t save = pos_;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ < s_.size() && is_dig(s_[pos_])) {
        is_float = true;
        digits_ok(is_dig);
      } else {
        pos_ = save;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'j' || s_[pos_] == 'J'))
      fail("complex numbers are not supported");
    if (pos_ < s_.size() && is_ident_char(s_[pos_])) fail("bad number literal");
    std::string body = strip_us(s_.substr(start, pos_ - start));
    if (is_float) {
      double d = 0;
      auto r = std::from_chars(body.data(), body.data() + body.size(), d);
      if (r.ec == std::errc::result_out_of_range) {
        // Python gives inf for overflow and 0.0 for underflow.
        d = std::strtod(body.c_str(), nullptr);
      } else if (r.ec != std::errc()) {
        fail("bad float literal");
      }
      return Json(d);
    }
    if (body.size() > 1 && body[0] == '0' && body.find_first_not_of('0') != std::string::npos) {
      fail("leading zeros in an integer");
    }
    uint64_t u = 0;
    auto r = std::from_chars(body.data(), body.data() + body.size(), u);
    if (r.ec == std::errc::result_out_of_range) return Json(std::strtod(body.c_str(), nullptr));
    if (r.ec != std::errc()) fail("bad integer literal");
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Json(static_cast<int64_t>(u));
    }
    return Json(u);
  }

  // One or more adjacent string literals, concatenated.
  Json parse_strings() {
    std::string out;
    bool any = false;
    while (true) {
      skip_space();
      if (pos_ >= s_.size()) break;
      size_t save = pos_;
      bool raw = false;
      while (pos_ < s_.size() && std::strchr("rRuU", s_[pos_]) != nullptr && s_[pos_] != '\0') {
        if (s_[pos_] == 'r' || s_[pos_] == 'R') raw = true;
        ++pos_;
      }
      if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"') || pos_ - save > 1) {
        pos_ = save;
        break;
      }
      parse_one_string(out, raw);
      any = true;
    }
    if (!any) fail("expected a string");
    return Json(std::move(out));
  }

  void parse_one_string(std::string& out, bool raw) {
    char q = s_[pos_];
    bool triple = s_.substr(pos_, 3) == std::string(3, q);
    pos_ += triple ? 3 : 1;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_];
      if (c == q) {
        if (!triple) {
          ++pos_;
          return;
        }
        if (s_.substr(pos_, 3) == std::string(3, q)) {
          pos_ += 3;
          return;
        }
        out += c;
        ++pos_;
        continue;
      }
      if (c == '\n' && !triple) fail("newline in a single-quoted string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= s_.size()) fail("unterminated string");
      char e = s_[pos_ + 1];
      if (raw) {
        out += c;
        out += e;
        pos_ += 2;
        continue;
      }
      size_t next = py_decode_escape(s_, pos_ + 1, out);
      if (next == std::string_view::npos) fail("bad escape");
      pos_ = next;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

size_t py_decode_escape(std::string_view s, size_t pos, std::string& out) {
  char e = s[pos++];
  auto hex = [&](int n) -> bool {
    if (pos + static_cast<size_t>(n) > s.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      char c = s[pos++];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    if (v > 0x10FFFF) return false;
    append_utf8(out, v);
    return true;
  };
  switch (e) {
    case '\n':
      return pos;
    case '\\':
    case '\'':
    case '"':
      out += e;
      return pos;
    case 'a':
      out += '\a';
      return pos;
    case 'b':
      out += '\b';
      return pos;
    case 'f':
      out += '\f';
      return pos;
    case 'n':
      out += '\n';
      return pos;
    case 'r':
      out += '\r';
      return pos;
    case 't':
      out += '\t';
      return pos;
    case 'v':
      out += '\v';
      return pos;
    case 'x':
      return hex(2) ? pos : std::string_view::npos;
    case 'u':
      return hex(4) ? pos : std::string_view::npos;
    case 'U':
      return hex(8) ? pos : std::string_view::npos;
    default:
      break;
  }
  if (e >= '0' && e <= '7') {
    uint32_t v = static_cast<uint32_t>(e - '0');
    for (int i = 0; i < 2 && pos < s.size() && s[pos] >= '0' && s[pos] <= '7'; ++i) {
      v = v * 8 + static_cast<uint32_t>(s[pos++] - '0');
    }
    append_utf8(out, v);
    return pos;
  }
  out += '\\';
  out += e;
  return pos;
}

Json py_literal_eval(std::string_view text) {
  return LiteralParser(text).parse();
}

}  // namespace retort
