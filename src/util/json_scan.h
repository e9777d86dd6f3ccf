// A validating pull scanner for JSON text, for hot paths that read a few members of a
// large reply without building a DOM (the nlohmann parser spends several µs per reply on
// allocation and per-character dispatch). It accepts exactly what nlohmann's strict parser
// accepts (RFC 8259: well-formed UTF-8 in strings, paired surrogates in \u escapes, a
// leading UTF-8 BOM skipped, a NUL byte after the value taken for the end) and fails on
// the first byte that is not.
//
// Use: enter_object() / next_key() / ... / read_string() / skip_value(), then finish().
// Every call returns false once the text is malformed (ok() turns false) or the value is
// not of the asked type; the caller then gives up or reads the text another way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace retort {

class JsonScanner {
 public:
  enum class Type { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull, kEnd, kError };

  explicit JsonScanner(std::string_view text);

  // The type of the next value (skips whitespace); kEnd at the end of the text.
  Type peek();
  // '{' then members: next_key() reads a comma (after the first), the key and the colon;
  // false at the closing '}' (consumed) or on an error.
  bool enter_object();
  bool next_key(std::string& key);
  // '[' then elements: next_element() is true when another element follows (reads the
  // comma), false at the closing ']' (consumed) or on an error.
  bool enter_array();
  bool next_element();
  bool read_string(std::string& out);
  // An integer that fits int64 (no fraction or exponent).
  bool read_int(int64_t& out);
  // A number as a double (strtod of the token).
  bool read_double(double& out);
  // A number's text, checked (nlohmann's grammar; a value too large for a double fails).
  bool read_number_token(std::string_view& token);
  // Reads one value of any type, checking it.
  bool skip_value();
  // A string, or "" after skipping a value of another type.
  bool string_or_skip(std::string& out) {
    out.clear();
    return peek() == Type::kString ? read_string(out) : skip_value();
  }
  // Reads an object member by member: read(key) consumes the member's value and returns
  // false to give up. False when the value is not an object, on malformed text, or when
  // read gave up.
  template <typename F>
  bool members(std::string& key, F&& read) {
    if (!enter_object()) return false;
    while (next_key(key))
      if (!read(key)) return false;
    return ok_;
  }
  // The same for an array: read() consumes one element.
  template <typename F>
  bool elements(F&& read) {
    if (!enter_array()) return false;
    while (next_element())
      if (!read()) return false;
    return ok_;
  }
  // Only whitespace remains (up to a NUL byte, which ends the text as it does for nlohmann).
  bool finish();
  bool ok() const { return ok_; }

 private:
  bool fail() { return ok_ = false; }
  void skip_ws();
  bool scan_string(std::string* out);
  bool scan_number(std::string_view* token);
  bool literal(std::string_view word);
  bool after_value_in_container(char close);

  std::string_view s_;
  size_t i_ = 0;
  bool ok_ = true;
  bool first_ = false;  // the container just entered has had no element yet
};

}  // namespace retort
