#include "util/json_scan.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "util/pyvalue.h"  // append_utf8

namespace retort {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes that stand for themselves inside a JSON string: printable ASCII but '"' and '\\'.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

}  // namespace

JsonScanner::JsonScanner(std::string_view text) : s_(text) {
  if (s_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;
}

void JsonScanner::skip_ws() {
  while (i_ < s_.size()) {
    char c = s_[i_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++i_;
  }
}

JsonScanner::Type JsonScanner::peek() {
  if (!ok_) return Type::kError;
  skip_ws();
  if (i_ >= s_.size()) return Type::kEnd;
  switch (s_[i_]) {
    case '{':
      return Type::kObject;
    case '[':
      return Type::kArray;
    case '"':
      return Type::kString;
    case 't':
      return Type::kTrue;
    case 'f':
      return Type::kFalse;
    case 'n':
      return Type::kNull;
    default:
      return (s_[i_] == '-' || (s_[i_] >= '0' && s_[i_] <= '9')) ? Type::kNumber : Type::kError;
  }
}

bool JsonScanner::enter_object() {
  if (peek() != Type::kObject) return fail();
  ++i_;
  first_ = true;
  return true;
}

bool JsonScanner::enter_array() {
  if (peek() != Type::kArray) return fail();
  ++i_;
  first_ = true;
  return true;
}

// Reads what follows a container's element: a comma (another element follows: true) or
// the closing bracket (false). Right after the opening bracket, the closer may come at once.
bool JsonScanner::after_value_in_container(char close) {
  if (!ok_) return false;
  skip_ws();
  if (i_ >= s_.size()) return fail();
  if (first_) {
    first_ = false;
    if (s_[i_] == close) {
      ++i_;
      return false;
    }
    return true;
  }
  if (s_[i_] == close) {
    ++i_;
    return false;
  }
  if (s_[i_] != ',') return fail();
  ++i_;
  return true;
}

bool JsonScanner::next_key(std::string& key) {
  if (!after_value_in_container('}')) return false;
  skip_ws();
  if (i_ >= s_.size() || s_[i_] != '"') return fail();
  if (!scan_string(&key)) return false;
  skip_ws();
  if (i_ >= s_.size() || s_[i_] != ':') return fail();
  ++i_;
  return true;
}

bool JsonScanner::next_element() {
  return after_value_in_container(']');
}

bool JsonScanner::read_string(std::string& out) {
  if (peek() != Type::kString) return fail();
  return scan_string(&out);
}

bool JsonScanner::scan_string(std::string* out) {
  if (out) out->clear();
  ++i_;  // the opening quote
  size_t run = i_;
  auto flush = [&](size_t end) {
    if (out) out->append(s_.data() + run, end - run);
  };
  const char* data = s_.data();
  const size_t size = s_.size();
  while (i_ < size) {
    // Runs of printable ASCII other than '"' and '\\' are most of any string.
    size_t k = i_;
    while (k < size && kPlain[static_cast<unsigned char>(data[k])]) ++k;
    i_ = k;
    if (i_ >= size) break;
    auto c = static_cast<unsigned char>(data[i_]);
    if (c == '"') {
      flush(i_);
      ++i_;
      return true;
    }
    if (c < 0x20) return fail();
    if (c == '\\') {
      flush(i_);
      if (i_ + 1 >= s_.size()) return fail();
      char e = s_[i_ + 1];
      i_ += 2;
      char plain = 0;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          plain = e;
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          auto hex4 = [&](uint32_t& v) {
            if (i_ + 4 > s_.size()) return false;
            v = 0;
            for (int k = 0; k < 4; ++k) {
              int d = hex_digit(s_[i_ + static_cast<size_t>(k)]);
              if (d < 0) return false;
              v = (v << 4) | static_cast<uint32_t>(d);
            }
            i_ += 4;
            return true;
          };
          uint32_t cp = 0;
          if (!hex4(cp)) return fail();
          if (cp >= 0xdc00 && cp <= 0xdfff) return fail();  // a lone low surrogate
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo = 0;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return fail();
            i_ += 2;
            if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return fail();
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          if (out) append_utf8(*out, static_cast<char32_t>(cp));
          break;
        }
        default:
          return fail();
      }
      if (plain && out) *out += plain;
      run = i_;
      continue;
    }
    if (c < 0x80) {
      ++i_;
      continue;
    }
    // Well-formed UTF-8 only (RFC 3629): no overlongs, surrogates or code points > U+10FFFF.
    auto byte = [&](size_t k) {
      return i_ + k < s_.size() ? static_cast<unsigned char>(s_[i_ + k]) : 0;
    };
    auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) {
      unsigned b = byte(k);
      return b >= lo && b <= hi;
    };
    size_t len = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = cont(1) ? 2 : 0;
    } else if (c == 0xe0) {
      len = cont(1, 0xa0) && cont(2) ? 3 : 0;
    } else if (c == 0xed) {
      len = cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    } else if (c >= 0xe1 && c <= 0xef) {
      len = cont(1) && cont(2) ? 3 : 0;
    } else if (c == 0xf0) {
      len = cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    } else if (c >= 0xf1 && c <= 0xf3) {
      len = cont(1) && cont(2) && cont(3) ? 4 : 0;
    } else if (c == 0xf4) {
      len = cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    }
    if (len == 0) return fail();
    i_ += len;
  }
  return fail();  // no closing quote
}

bool JsonScanner::scan_number(std::string_view* token) {
  size_t start = i_;
  auto digit = [&](size_t k) { return k < s_.size() && s_[k] >= '0' && s_[k] <= '9'; };
  if (s_[i_] == '-') ++i_;
  if (!digit(i_)) return fail();
  if (s_[i_] == '0') {
    ++i_;
  } else {
    while (digit(i_)) ++i_;
  }
  if (i_ < s_.size() && s_[i_] == '.') {
    ++i_;
    if (!digit(i_)) return fail();
    while (digit(i_)) ++i_;
  }
  if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
    ++i_;
    if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
    if (!digit(i_)) return fail();
    while (digit(i_)) ++i_;
  }
  std::string_view t = s_.substr(start, i_ - start);
  // nlohmann rejects a number too large for a double. Without an exponent that takes over
  // 300 digits, so only such tokens pay for strtod here.
  if (t.size() > 300 || t.find_first_of("eE") != std::string_view::npos) {
    if (!std::isfinite(std::strtod(std::string(t).c_str(), nullptr))) return fail();
  }
  if (token) *token = t;
  return true;
}

bool JsonScanner::read_int(int64_t& out) {
  if (peek() != Type::kNumber) return fail();
  std::string_view t;
  if (!scan_number(&t)) return false;
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  // A fraction, an exponent or a value out of range: not an int64 (the text is fine).
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

bool JsonScanner::read_double(double& out) {
  if (peek() != Type::kNumber) return fail();
  std::string_view t;
  if (!scan_number(&t)) return false;
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  // Out of range here means an underflow (overflow was refused above): strtod gives the
  // same 0 or subnormal that nlohmann does.
  if (r.ec != std::errc()) out = std::strtod(std::string(t).c_str(), nullptr);
  return true;
}

bool JsonScanner::read_number_token(std::string_view& token) {
  if (peek() != Type::kNumber) return fail();
  return scan_number(&token);
}

bool JsonScanner::literal(std::string_view word) {
  if (s_.substr(i_, word.size()) != word) return fail();
  i_ += word.size();
  return true;
}

bool JsonScanner::skip_value() {
  // Iterative, so that deep nesting cannot overflow the stack.
  std::vector<char> closers;
  do {
    bool opened = false;
    switch (peek()) {
      case Type::kObject:
        ++i_;
        first_ = true;
        closers.push_back('}');
        opened = true;
        break;
      case Type::kArray:
        ++i_;
        first_ = true;
        closers.push_back(']');
        opened = true;
        break;
      case Type::kString:
        if (!scan_string(nullptr)) return false;
        break;
      case Type::kNumber:
        if (!scan_number(nullptr)) return false;
        break;
      case Type::kTrue:
        if (!literal("true")) return false;
        break;
      case Type::kFalse:
        if (!literal("false")) return false;
        break;
      case Type::kNull:
        if (!literal("null")) return false;
        break;
      default:
        return fail();
    }
    (void)opened;
    // Close every container that ends here; go on with the next element of the innermost
    // one still open.
    while (!closers.empty()) {
      char close = closers.back();
      bool more = after_value_in_container(close);
      if (!ok_) return false;
      if (!more) {
        closers.pop_back();
        continue;
      }
      if (close == '}') {
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != '"' || !scan_string(nullptr)) return fail();
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != ':') return fail();
        ++i_;
      }
      break;
    }
  } while (!closers.empty());
  first_ = false;
  return ok_;
}

bool JsonScanner::finish() {
  if (!ok_) return false;
  skip_ws();
  // nlohmann's lexer takes a NUL byte for the end of the input; so does this.
  return i_ == s_.size() || s_[i_] == '\0' || fail();
}

}  // namespace retort
