// Small string helpers shared by every module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace retort {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string to_lower(std::string_view s);

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Strips ASCII whitespace at both ends.
std::string trim(std::string_view s);
// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// Up to max_n candidates closest to name (case-insensitive), nearest first; only those
// within a distance that makes a suggestion plausible.
std::vector<std::string> closest_matches(std::string_view name,
                                         const std::vector<std::string>& candidates,
                                         size_t max_n = 3);
// Reads a whole file; throws retort::Error naming the path when it cannot.
// Appends s with backslash, tab, newline and carriage return written as \\ \t \n \r: a
// field of a tab-separated line (PostgreSQL's COPY text format, the task index).
void append_tsv_escaped(std::string& out, std::string_view s);

std::string read_file(const std::string& path);
// Writes a file atomically (temp file in the same directory, then rename).
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace retort
