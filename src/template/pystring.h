// Internal to src/template: Python str methods on UTF-8 text (indices count code points,
// whitespace and case follow Python's Unicode rules), and Python re.sub over PCRE2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retort::tmpl {

std::string py_lower(std::string_view s);
std::string py_upper(std::string_view s);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize()
std::string jinja_title(std::string_view s);    // Jinja's |title filter
bool py_isalpha(std::string_view s);
bool py_isalnum(std::string_view s);
bool py_isspace_str(std::string_view s);
bool py_isupper(std::string_view s);
bool py_islower(std::string_view s);

// str.strip(chars) family; chars == nullopt means whitespace.
enum class StripSide { kLeft, kRight, kBoth };
std::string py_strip_chars(std::string_view s, const std::optional<std::string>& chars,
                           StripSide side);

// str.split(sep, maxsplit) / str.rsplit; sep == nullopt splits on runs of whitespace.
// maxsplit < 0 means no limit. An empty sep is the caller's error to report.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit);
std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep,
                                   int64_t maxsplit);
std::vector<std::string> py_splitlines(std::string_view s);
// str.split(sep)[i] for a non-empty sep and no maxsplit, without building the list: i < 0
// counts from the end, as a Python index does. nullopt when i is out of range.
std::optional<std::string_view> py_split_part(std::string_view s, std::string_view sep, int64_t i);

// str.find / str.rfind: code point index of sub, or -1.
int64_t py_find(std::string_view s, std::string_view sub, bool reverse = false);
// str.count(sub).
int64_t py_count(std::string_view s, std::string_view sub);
// str.replace(old, new, count); count < 0 means all.
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);

// The code points of s, each as its own UTF-8 string, and the byte offsets of each code
// point (with a final entry for s.size()).
std::vector<size_t> code_point_offsets(std::string_view s);

// Python re.sub(pattern, repl, s, count) with PCRE2 (UTF, UCP). Throws retort::Error with
// `where` on a bad pattern or replacement.
std::string regex_sub(std::string_view pattern, std::string_view repl, std::string_view s,
                      int64_t count, const std::string& where);

// Number of \w+ runs (Jinja's |wordcount).
int64_t word_count(std::string_view s);

}  // namespace retort::tmpl
