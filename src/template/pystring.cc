#include "template/pystring.h"

#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include "util/error.h"
#include "util/pyvalue.h"

namespace retort::tmpl {

namespace {

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

char32_t to_lower_cp(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}
char32_t to_upper_cp(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
}
char32_t to_title_cp(char32_t c) {
  if (c < 0x80) return to_upper_cp(c);
  return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c)));
}

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}
bool is_upper_cp(char32_t c) {
  return category(c) == UTF8PROC_CATEGORY_LU;
}
bool is_lower_cp(char32_t c) {
  return category(c) == UTF8PROC_CATEGORY_LL;
}
bool is_cased_cp(char32_t c) {
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}
bool is_alpha_cp(char32_t c) {
  auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}
bool is_numeric_cp(char32_t c) {
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}
bool is_word_cp(char32_t c) {
  if (c == '_') return true;
  auto cat = category(c);
  return is_alpha_cp(c) || is_numeric_cp(c) || cat == UTF8PROC_CATEGORY_MN ||
         cat == UTF8PROC_CATEGORY_MC;
}

template <typename F>
std::string map_cps(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) append_utf8(out, f(decode_utf8(s, pos)));
  return out;
}

template <typename P>
bool all_cps(std::string_view s, P pred) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();) {
    if (!pred(decode_utf8(s, pos))) return false;
  }
  return true;
}

}  // namespace

std::string py_lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (auto& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  return map_cps(s, to_lower_cp);
}

std::string py_upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (auto& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  return map_cps(s, to_upper_cp);
}

std::string py_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    append_utf8(out, prev_cased ? to_lower_cp(c) : to_title_cp(c));
    prev_cased = is_cased_cp(c);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    append_utf8(out, first ? to_title_cp(c) : to_lower_cp(c));
    first = false;
  }
  return out;
}

std::string jinja_title(std::string_view s) {
  // Words begin after runs of '-', whitespace, '(', '{', '[' or '<'.
  std::string out;
  bool at_start = true;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
    if (sep) {
      append_utf8(out, c);
      at_start = true;
    } else {
      append_utf8(out, at_start ? to_upper_cp(c) : to_lower_cp(c));
      at_start = false;
    }
  }
  return out;
}

bool py_isalpha(std::string_view s) {
  return all_cps(s, is_alpha_cp);
}
bool py_isalnum(std::string_view s) {
  return all_cps(s, [](char32_t c) { return is_alpha_cp(c) || is_numeric_cp(c); });
}
bool py_isspace_str(std::string_view s) {
  return all_cps(s, py_isspace);
}
bool py_isupper(std::string_view s) {
  bool any_cased = false;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    if (is_lower_cp(c) || category(c) == UTF8PROC_CATEGORY_LT) return false;
    if (is_upper_cp(c)) any_cased = true;
  }
  return any_cased;
}
bool py_islower(std::string_view s) {
  bool any_cased = false;
  for (size_t pos = 0; pos < s.size();) {
    char32_t c = decode_utf8(s, pos);
    if (is_upper_cp(c) || category(c) == UTF8PROC_CATEGORY_LT) return false;
    if (is_lower_cp(c)) any_cased = true;
  }
  return any_cased;
}

std::vector<size_t> code_point_offsets(std::string_view s) {
  std::vector<size_t> offs;
  offs.reserve(s.size() + 1);
  for (size_t pos = 0; pos < s.size();) {
    offs.push_back(pos);
    decode_utf8(s, pos);
  }
  offs.push_back(s.size());
  return offs;
}

std::string py_strip_chars(std::string_view s, const std::optional<std::string>& chars,
                           StripSide side) {
  std::vector<char32_t> set;
  if (chars) {
    for (size_t pos = 0; pos < chars->size();) set.push_back(decode_utf8(*chars, pos));
  }
  auto strip_it = [&](char32_t c) {
    if (!chars) return py_isspace(c);
    for (char32_t x : set) {
      if (x == c) return true;
    }
    return false;
  };
  size_t begin = 0;
  if (side != StripSide::kRight) {
    while (begin < s.size()) {
      size_t next = begin;
      if (!strip_it(decode_utf8(s, next))) break;
      begin = next;
    }
  }
  size_t end = s.size();
  if (side != StripSide::kLeft) {
    // From the end while the bytes are ASCII: decode_utf8 never takes an ASCII byte into
    // another code point, so each is a code point of its own. At the first non-ASCII byte,
    // the rest is scanned forwards (code point boundaries are only known from the front).
    while (end > begin && static_cast<unsigned char>(s[end - 1]) < 0x80 &&
           strip_it(static_cast<unsigned char>(s[end - 1])))
      --end;
    if (end > begin && static_cast<unsigned char>(s[end - 1]) >= 0x80) {
      const std::string_view head = s.substr(0, end);
      size_t last_keep = begin;
      for (size_t pos = begin; pos < head.size();) {
        char32_t c = decode_utf8(head, pos);
        if (!strip_it(c)) last_keep = pos;
      }
      end = last_keep;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

std::optional<std::string_view> py_split_part(std::string_view s, std::string_view sep, int64_t i) {
  // Occurrences are found from the left (as split does) even for i < 0: from the right,
  // overlapping ones ("aa" in "aaa") would cut elsewhere.
  if (i < 0) {
    int64_t n = 1;
    for (size_t p = s.find(sep); p != std::string_view::npos; p = s.find(sep, p + sep.size())) ++n;
    i += n;
    if (i < 0) return std::nullopt;
  }
  size_t start = 0;
  for (int64_t k = 0; k < i; ++k) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) return std::nullopt;
    start = p + sep.size();
  }
  size_t end = s.find(sep, start);
  return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      size_t p = s.find(*sep, start);
      if (p == std::string_view::npos) break;
      out.emplace_back(s.substr(start, p - start));
      start = p + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  size_t pos = 0;
  auto skip_space = [&] {
    while (pos < s.size()) {
      size_t next = pos;
      if (!py_isspace(decode_utf8(s, next))) break;
      pos = next;
    }
  };
  while (true) {
    skip_space();
    if (pos >= s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.emplace_back(s.substr(pos));
      break;
    }
    size_t start = pos;
    while (pos < s.size()) {
      size_t next = pos;
      if (py_isspace(decode_utf8(s, next))) break;
      pos = next;
    }
    out.emplace_back(s.substr(start, pos - start));
  }
  return out;
}

std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep,
                                   int64_t maxsplit) {
  // Without a limit, splitting on whitespace cuts in the same places from either end; on a
  // separator it does not when occurrences overlap ('aaa'.rsplit('aa') == ['a', '']).
  if (maxsplit < 0 && !sep) return py_split(s, sep, maxsplit);
  std::vector<std::string> rev;
  if (sep) {
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
      if (end < sep->size()) break;
      size_t p = s.rfind(*sep, end - sep->size());
      if (p == std::string_view::npos) break;
      rev.emplace_back(s.substr(p + sep->size(), end - p - sep->size()));
      end = p;
    }
    rev.emplace_back(s.substr(0, end));
  } else {
    std::vector<size_t> offs = code_point_offsets(s);
    size_t n = offs.size() - 1;
    auto space_at = [&](size_t i) {
      size_t p = offs[i];
      return py_isspace(decode_utf8(s, p));
    };
    size_t i = n;
    while (true) {
      while (i > 0 && space_at(i - 1)) --i;
      if (i == 0) break;
      if (static_cast<int64_t>(rev.size()) >= maxsplit) {
        rev.emplace_back(s.substr(0, offs[i]));
        break;
      }
      size_t end = i;
      while (i > 0 && !space_at(i - 1)) --i;
      rev.emplace_back(s.substr(offs[i], offs[end] - offs[i]));
    }
  }
  return std::vector<std::string>(rev.rbegin(), rev.rend());
}

std::vector<std::string> py_splitlines(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t at = pos;
    char32_t c = decode_utf8(s, pos);
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
               c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    out.emplace_back(s.substr(start, at - start));
    if (c == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
    start = pos;
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

int64_t py_find(std::string_view s, std::string_view sub, bool reverse) {
  size_t p = reverse ? s.rfind(sub) : s.find(sub);
  if (p == std::string_view::npos) return -1;
  return static_cast<int64_t>(py_len(s.substr(0, p)));
}

int64_t py_count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(py_len(s)) + 1;
  int64_t n = 0;
  for (size_t p = s.find(sub); p != std::string_view::npos; p = s.find(sub, p + sub.size())) ++n;
  return n;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts repl before every code point and at the end.
    std::vector<size_t> offs = code_point_offsets(s);
    int64_t done = 0;
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      out.append(s.substr(offs[i], offs[i + 1] - offs[i]));
    }
    if (count < 0 || done < count) out += repl;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(old, start);
    if (p == std::string_view::npos) break;
    out.append(s.substr(start, p - start));
    out += repl;
    start = p + old.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

int64_t word_count(std::string_view s) {
  int64_t n = 0;
  bool in_word = false;
  for (size_t pos = 0; pos < s.size();) {
    bool w = is_word_cp(decode_utf8(s, pos));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// re.sub

namespace {

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
using CodePtr = std::shared_ptr<pcre2_code>;

// Compiled patterns are shared across renders and threads (matching is thread-safe with a
// per-call match block); the cache is bounded so that generated patterns cannot grow it
// without limit.
CodePtr compile_cached(std::string_view pattern, const std::string& where) {
  static std::mutex mu;
  static std::unordered_map<std::string, CodePtr> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(std::string(pattern));
  if (it != cache.end()) return it->second;
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    throw Error("bad regular expression '" + std::string(pattern) +
                    "': " + reinterpret_cast<char*>(buf) + " at offset " + std::to_string(off),
                where, "regex_replace takes a Python re pattern");
  }
  if (cache.size() > 1024) cache.clear();
  CodePtr ptr(code, CodeDeleter());
  cache.emplace(std::string(pattern), ptr);
  return ptr;
}

// One piece of a parsed replacement: literal text, or a group number.
struct ReplPart {
  std::string text;
  int group = -1;
};

std::vector<ReplPart> parse_repl(std::string_view repl, pcre2_code* code,
                                 const std::string& where) {
  std::vector<ReplPart> parts;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) parts.push_back({std::move(lit), -1});
    lit.clear();
  };
  uint32_t ngroups = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ngroups);
  auto bad = [&](const std::string& what) {
    throw Error("bad replacement '" + std::string(repl) + "': " + what, where,
                "use \\1 or \\g<name> to refer to groups");
  };
  auto add_group = [&](int g) {
    if (g < 0 || static_cast<uint32_t>(g) > ngroups)
      bad("invalid group reference " + std::to_string(g));
    flush();
    parts.push_back({"", g});
  };
  for (size_t i = 0; i < repl.size(); ++i) {
    char c = repl[i];
    if (c != '\\' || i + 1 >= repl.size()) {
      lit += c;
      continue;
    }
    char e = repl[++i];
    if (e == 'g') {
      if (i + 1 >= repl.size() || repl[i + 1] != '<') bad("missing < after \\g");
      size_t close = repl.find('>', i + 2);
      if (close == std::string_view::npos) bad("missing > after \\g<");
      std::string name(repl.substr(i + 2, close - i - 2));
      i = close;
      if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
        add_group(std::stoi(name));
      } else {
        int g = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>(name.c_str()));
        if (g < 0) bad("unknown group name '" + name + "'");
        add_group(g);
      }
    } else if (e == '0') {
      // Octal escape: \0, \0o, \0oo.
      int v = 0;
      size_t k = 0;
      while (k < 2 && i + 1 < repl.size() && repl[i + 1] >= '0' && repl[i + 1] <= '7') {
        v = v * 8 + (repl[++i] - '0');
        ++k;
      }
      append_utf8(lit, static_cast<char32_t>(v));
    } else if (e >= '1' && e <= '9') {
      int g = e - '0';
      if (i + 1 < repl.size() && repl[i + 1] >= '0' && repl[i + 1] <= '9') {
        g = g * 10 + (repl[++i] - '0');
      }
      add_group(g);
    } else {
      switch (e) {
        case 'n':
          lit += '\n';
          break;
        case 't':
          lit += '\t';
          break;
        case 'r':
          lit += '\r';
          break;
        case 'f':
          lit += '\f';
          break;
        case 'v':
          lit += '\v';
          break;
        case 'a':
          lit += '\a';
          break;
        case 'b':
          lit += '\b';
          break;
        case '\\':
          lit += '\\';
          break;
        default:
          if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
            bad(std::string("bad escape \\") + e);
          }
          lit += '\\';
          lit += e;
      }
    }
  }
  flush();
  return parts;
}

}  // namespace

std::string regex_sub(std::string_view pattern, std::string_view repl, std::string_view s,
                      int64_t count, const std::string& where) {
  CodePtr code = compile_cached(pattern, where);
  std::vector<ReplPart> parts = parse_repl(repl, code.get(), where);
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> md(
      pcre2_match_data_create_from_pattern(code.get(), nullptr), pcre2_match_data_free);
  auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  std::string out;
  size_t last = 0;   // end of the text already copied
  size_t start = 0;  // where the next search begins
  int64_t done = 0;
  uint32_t opts = 0;
  while (start <= s.size() && (count <= 0 || done < count)) {
    int rc = pcre2_match(code.get(), subject, s.size(), start, opts, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (opts == 0) break;
      // An empty match was found at `start` already: move one code point on and retry.
      opts = 0;
      if (start >= s.size()) break;
      size_t next = start;
      decode_utf8(s, next);
      start = next;
      continue;
    }
    if (rc < 0) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof(buf));
      throw Error(std::string("regex match failed: ") + reinterpret_cast<char*>(buf), where);
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    size_t ms = ov[0];
    size_t me = ov[1];
    out.append(s.substr(last, ms - last));
    for (const auto& p : parts) {
      if (p.group < 0) {
        out += p.text;
      } else if (p.group < rc && ov[2 * p.group] != PCRE2_UNSET) {
        out.append(s.substr(ov[2 * p.group], ov[2 * p.group + 1] - ov[2 * p.group]));
      }
    }
    last = me;
    ++done;
    start = me;
    opts = ms == me ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
  out.append(s.substr(last));
  return out;
}

}  // namespace retort::tmpl
