// Python `re` semantics (str patterns) on top of PCRE2, for the regexes task files carry:
// filters, `regexes_to_ignore`, Jinja's `regex_replace`, word counting. Patterns are
// compiled in UTF + UCP mode so \d, \w, \b are Unicode-aware as in Python; Python-only
// syntax is translated (\Z, \u/\U escapes, {,n}, Python's \s set); iteration follows
// Python 3.7+ rules for empty matches; `sub` understands Python replacement templates
// (\1, \g<1>, \g<name>, \n, ...). Positions are byte offsets into the UTF-8 subject.
// A bad pattern is a retort::Error naming the pattern and the offset.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace retort {

// re.IGNORECASE, re.MULTILINE, re.DOTALL, re.VERBOSE, re.ASCII.
enum PyRegexFlags : int {
  kPyReNone = 0,
  kPyReIgnoreCase = 1,
  kPyReMultiline = 2,
  kPyReDotAll = 4,
  kPyReVerbose = 8,
  kPyReAscii = 16,
};

// One successful match. Group 0 is the whole match; an unmatched group is nullopt.
struct PyMatch {
  std::vector<std::optional<std::string>> groups;
  std::vector<std::pair<size_t, size_t>> spans;  // byte [start, end); npos for unmatched
  size_t start() const { return spans[0].first; }
  size_t end() const { return spans[0].second; }
  // group(i) as Python's m.group(i) or "" (findall's convention) when unmatched.
  std::string group_or_empty(size_t i) const { return groups[i].value_or(""); }
};

class PyRegex {
 public:
  // Compiles (or returns the cached compilation of) pattern with flags.
  static std::shared_ptr<const PyRegex> compile(const std::string& pattern, int flags = kPyReNone);
  ~PyRegex();
  PyRegex(const PyRegex&) = delete;
  PyRegex& operator=(const PyRegex&) = delete;

  const std::string& pattern() const { return pattern_; }
  // Number of capturing groups (Python's .groups).
  int group_count() const { return group_count_; }

  // re.search from byte offset pos.
  std::optional<PyMatch> search(std::string_view s, size_t pos = 0) const;
  // re.match: anchored at pos.
  std::optional<PyMatch> match(std::string_view s, size_t pos = 0) const;
  // re.fullmatch: the whole of s.
  std::optional<PyMatch> fullmatch(std::string_view s) const;
  // re.finditer as a vector.
  std::vector<PyMatch> finditer(std::string_view s) const;
  // re.findall: no groups -> strings; one group -> that group's strings; several -> arrays
  // of group strings (Python tuples). Unmatched groups are "".
  Json findall(std::string_view s) const;
  // re.sub(pattern, repl, s, count): repl is a Python replacement template. count 0 = all.
  std::string sub(std::string_view repl, std::string_view s, int64_t count = 0) const;
  // re.split(pattern, s, maxsplit): pieces interleaved with groups; nullopt = None.
  std::vector<std::optional<std::string>> split(std::string_view s, int64_t maxsplit = 0) const;

 private:
  PyRegex() = default;
  struct Impl;
  std::optional<PyMatch> run(std::string_view s, size_t pos, uint32_t options) const;
  const size_t* exec(std::string_view s, size_t pos, uint32_t options) const;

  std::string pattern_;
  int flags_ = 0;
  int group_count_ = 0;
  std::unique_ptr<Impl> impl_;
};

// Module-level conveniences (compile through the cache, then call).
std::optional<PyMatch> py_re_search(const std::string& pattern, std::string_view s,
                                    int flags = kPyReNone);
std::optional<PyMatch> py_re_fullmatch(const std::string& pattern, std::string_view s,
                                       int flags = kPyReNone);
Json py_re_findall(const std::string& pattern, std::string_view s, int flags = kPyReNone);
std::string py_re_sub(const std::string& pattern, std::string_view repl, std::string_view s,
                      int64_t count = 0, int flags = kPyReNone);
std::vector<std::optional<std::string>> py_re_split(const std::string& pattern, std::string_view s,
                                                    int64_t maxsplit = 0, int flags = kPyReNone);
// re.escape (Python 3.7+): backslash before each of ()[]{}?*+-|^$\.&~# and whitespace.
std::string py_re_escape(std::string_view s);

}  // namespace retort
