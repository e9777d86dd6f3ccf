// Internal text helpers for scoring: Python's str.lower()/upper(), and the character
// classes lm-eval strips (ASCII string.punctuation, Unicode punctuation categories P*).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace retort::scoring {

// Python str.lower() / str.upper() (Unicode; the full mappings Python applies to the
// common special cases ß -> SS and İ -> i̇ are included).
std::string py_lower(std::string_view s);
std::string py_upper(std::string_view s);
// Removes every code point whose Unicode general category starts with P (lm-eval's
// punct_tbl in multi_choice_regex).
std::string remove_unicode_punctuation(std::string_view s);
// Removes the ASCII characters of Python's string.punctuation.
std::string remove_ascii_punctuation(std::string_view s);
// Removes ASCII digits 0-9 (string.digits).
std::string remove_ascii_digits(std::string_view s);
// The code points of s as separate UTF-8 strings (Python's iteration over a str).
std::vector<std::string> code_points(std::string_view s);

}  // namespace retort::scoring
