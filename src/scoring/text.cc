#include "scoring/text.h"

#include <utf8proc.h>

#include "util/pyvalue.h"

namespace retort::scoring {

std::string py_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = decode_utf8(s, pos);
    if (cp == 0x130) {  // İ lowers to i + combining dot above in Python
      out += "i\xcc\x87";
      continue;
    }
    append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
  return out;
}

std::string py_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = decode_utf8(s, pos);
    if (cp == 0xDF) {  // ß uppers to SS in Python
      out += "SS";
      continue;
    }
    append_utf8(out, static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))));
  }
  return out;
}

std::string remove_unicode_punctuation(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = decode_utf8(s, pos);
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
      case UTF8PROC_CATEGORY_PC:
      case UTF8PROC_CATEGORY_PD:
      case UTF8PROC_CATEGORY_PS:
      case UTF8PROC_CATEGORY_PE:
      case UTF8PROC_CATEGORY_PI:
      case UTF8PROC_CATEGORY_PF:
      case UTF8PROC_CATEGORY_PO:
        break;
      default:
        append_utf8(out, cp);
    }
  }
  return out;
}

std::string remove_ascii_punctuation(std::string_view s) {
  static constexpr std::string_view kPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (kPunct.find(c) == std::string_view::npos) out += c;
  }
  return out;
}

std::string remove_ascii_digits(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c < '0' || c > '9') out += c;
  }
  return out;
}

std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    decode_utf8(s, pos);
    out.emplace_back(s.substr(start, pos - start));
  }
  return out;
}

}  // namespace retort::scoring
