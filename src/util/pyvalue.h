// Python value semantics over retort::Json. lm-eval renders, hashes and parses values the
// way CPython does (str(), repr(), json.dumps, ast.literal_eval, str.isdigit, str.strip),
// and prompt bytes and hashes must match it exactly, so these functions reproduce CPython's
// output byte for byte for the values a JSON document can hold.
//
// Mapping: JSON null = None, booleans = True/False, integers = int, floats = float,
// strings = str (UTF-8), arrays = list, objects = dict (insertion order kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/json.h"

namespace retort {

// Python str(v): strings as they are, everything else as py_repr().
std::string py_str(const Json& v);

// Python repr(v): 'it' / "it's", 1, 1.0, 1e-05, inf, nan, True, None, ['a', 1], {'a': 1}.
std::string py_repr(const Json& v);

// Python repr(float): shortest round-trip digits; "1.0", "0.1", "1e-05", "1e+16", "inf",
// "-inf", "nan", "-0.0".
std::string py_float_repr(double d);

// Python repr(str) of UTF-8 text.
std::string py_str_repr(std::string_view s);

// Python json.dumps(v, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys).
// indent < 0 means None (one line, separators ", " and ": "); indent >= 0 puts items on
// their own lines with separators "," and ": ". Floats print as Python repr (NaN,
// Infinity, -Infinity for the non-finite ones).
std::string py_json_dumps(const Json& v, int indent = -1, bool ensure_ascii = false,
                          bool sort_keys = false);

// The same, appended to out.
void append_py_json_dumps(std::string& out, const Json& v, int indent = -1,
                          bool ensure_ascii = false, bool sort_keys = false);

// Appends s as json.dumps writes a string (quoted and escaped) to out.
void append_py_json_string(std::string& out, std::string_view s, bool ensure_ascii = false);

// Python ast.literal_eval for literal displays: ints, floats, strings (single, double and
// triple quotes, r/u prefixes, escapes, adjacent concatenation), lists, tuples and sets
// (both become arrays), dicts (keys become their str()), True, False, None, unary +/-.
// Throws retort::Error on anything else.
Json py_literal_eval(std::string_view text);

// Python truthiness: None, False, 0, 0.0, "", [], {} are false.
bool py_truthy(const Json& v);

// Python str.isdigit(): non-empty and every code point is a digit (Nd, or the No digits
// such as superscripts and circled digits that Python counts).
bool py_isdigit(std::string_view utf8);

// Python str.isspace() for one code point (includes \x1c-\x1f, \x85, \xa0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
bool py_isspace(char32_t cp);

// Python str.strip() / lstrip() / rstrip() with no argument: Unicode whitespace.
std::string py_strip(std::string_view utf8);
std::string py_lstrip(std::string_view utf8);
std::string py_rstrip(std::string_view utf8);

// Python len(str): the number of code points.
size_t py_len(std::string_view utf8);

// UTF-8 helpers shared with the template engine. decode_utf8 reads one code point at
// pos and advances pos; invalid bytes decode as U+FFFD one byte at a time.
char32_t decode_utf8(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);

// Decodes the Python string escape whose letter is s[pos] (the character after the
// backslash; pos < s.size()) into out, as Python's string literals do: \n \t \x41 \u00e9
// \U0001F600 octal, an escaped newline (nothing), and unknown escapes kept with their
// backslash. Returns the position after the escape, or std::string_view::npos for a bad or
// truncated hex escape or a code point past U+10FFFF.
size_t py_decode_escape(std::string_view s, size_t pos, std::string& out);

}  // namespace retort
