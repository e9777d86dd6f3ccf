#include "util/py_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <unordered_map>

#include <fmt/format.h>

#include "util/error.h"

namespace retort {

namespace {

// Python's \s for str patterns is str.isspace(), which includes \x1c-\x1f and excludes
// U+180E; PCRE2's UCP \s differs on both, so \s is spelled out.
constexpr const char* kPySpaceSet =
    R"(\t\n\x{0b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029})"
    R"(\x{202f}\x{205f}\x{3000})";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Rewrites Python `re` syntax that PCRE2 reads differently. Records an ASCII flag found
// in an inline flag group, which PCRE2 has no spelling for.
std::string translate_pattern(const std::string& p, bool& ascii) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  bool class_start = false;  // just after '[' or '[^' (a ']' here is a literal)
  const size_t n = p.size();
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c == '\\' && i + 1 < n) {
      char e = p[i + 1];
      class_start = false;
      if (e == 'Z' && !in_class) {
        out += "\\z";
        i++;
        continue;
      }
      if (e == 'u' || e == 'U') {
        const size_t len = e == 'u' ? 4 : 8;
        bool ok = i + 1 + len < n;
        for (size_t k = 0; ok && k < len; k++) ok = is_hex(p[i + 2 + k]);
        if (ok) {
          out += "\\x{" + p.substr(i + 2, len) + "}";
          i += 1 + len;
          continue;
        }
      }
      if ((e == 's' || e == 'S') && !ascii) {
        if (!in_class) {
          out += e == 's' ? "[" : "[^";
          out += kPySpaceSet;
          out += "]";
          i++;
          continue;
        }
        if (e == 's') {
          out += kPySpaceSet;
          i++;
          continue;
        }
      }
      out += c;
      out += e;
      i++;
      continue;
    }
    if (in_class) {
      if (c == ']' && !class_start) {
        in_class = false;
        out += c;
        continue;
      }
      if (c == '^' && class_start && out.back() == '[') {
        out += c;
        continue;  // still at the start: a following ']' is literal
      }
      class_start = false;
      if (c == '[') {
        out += "\\[";  // literal in Python; PCRE2 would read [: :] as a POSIX class
        continue;
      }
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      class_start = true;
      out += c;
      continue;
    }
    if (c == '{' && i + 1 < n && p[i + 1] == ',') {
      // Python reads {,n} and {,} as quantifiers with a minimum of 0.
      size_t j = i + 2;
      while (j < n && is_digit(p[j])) j++;
      if (j < n && p[j] == '}') {
        out += "{0";
        continue;
      }
    }
    if (c == '(' && i + 2 < n && p[i + 1] == '?') {
      // Inline flag group (?aiLmsux) or scoped (?aiLmsux-imsx:...): drop a/u/L.
      size_t j = i + 2;
      std::string letters;
      while (j < n && std::string_view("aiLmsux-").find(p[j]) != std::string_view::npos) {
        letters += p[j];
        j++;
      }
      if (!letters.empty() && j < n && (p[j] == ')' || p[j] == ':')) {
        std::string kept;
        for (char f : letters) {
          if (f == 'a') ascii = true;
          if (f != 'a' && f != 'u' && f != 'L') kept += f;
        }
        if (kept.empty() && p[j] == ')') {
          i = j;
          continue;
        }
        out += "(?" + kept;
        i = j - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

bool has_ascii_flag(const std::string& p) {
  // A cheap pre-scan so that \s before the flag group is translated consistently.
  for (size_t i = 0; i + 2 < p.size(); i++) {
    if (p[i] == '\\') {
      i++;
      continue;
    }
    if (p[i] == '(' && p[i + 1] == '?') {
      size_t j = i + 2;
      bool a = false;
      while (j < p.size() && std::string_view("aiLmsux-").find(p[j]) != std::string_view::npos) {
        if (p[j] == 'a') a = true;
        j++;
      }
      if (a && j < p.size() && (p[j] == ')' || p[j] == ':')) return true;
    }
  }
  return false;
}

// A parsed Python replacement template: literal text and group references.
struct TemplatePart {
  std::string literal;
  int group = -1;  // >= 0: a group reference
};

}  // namespace

struct PyRegex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() {
    if (code) pcre2_code_free(code);
  }
};

PyRegex::~PyRegex() = default;

std::shared_ptr<const PyRegex> PyRegex::compile(const std::string& pattern, int flags) {
  // Compiled patterns are immutable and shared; the cache only saves recompilation.
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const PyRegex>> cache;
  std::string key = std::to_string(flags) + '\0' + pattern;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }

  bool ascii = (flags & kPyReAscii) || has_ascii_flag(pattern);
  std::string translated = translate_pattern(pattern, ascii);
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  if (!ascii) options |= PCRE2_UCP;
  if (flags & kPyReIgnoreCase) options |= PCRE2_CASELESS;
  if (flags & kPyReMultiline) options |= PCRE2_MULTILINE;
  if (flags & kPyReDotAll) options |= PCRE2_DOTALL;
  if (flags & kPyReVerbose) options |= PCRE2_EXTENDED;

  pcre2_compile_context* ctx = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), options, &err, &err_offset, ctx);
  pcre2_compile_context_free(ctx);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    throw Error(fmt::format("invalid regular expression '{}': {} at position {}", pattern,
                            reinterpret_cast<const char*>(buf), err_offset),
                "", "use Python `re` syntax; escape literal characters such as ( [ { . * +");
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort: falls back to the interpreter

  auto rx = std::shared_ptr<PyRegex>(new PyRegex());
  rx->pattern_ = pattern;
  rx->flags_ = flags;
  rx->impl_ = std::make_unique<Impl>();
  rx->impl_->code = code;
  uint32_t captures = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
  rx->group_count_ = static_cast<int>(captures);

  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 512) cache.clear();  // as Python's re._MAXCACHE
  cache.emplace(key, rx);
  return rx;
}

namespace {

// The thread's match data, kept from one match to the next (creating and freeing one per
// match was most of a short match's cost); grown when a pattern has more groups.
struct MatchData {
  pcre2_match_data* md = nullptr;
  uint32_t pairs = 0;
  ~MatchData() {
    if (md) pcre2_match_data_free(md);
  }
  pcre2_match_data* get(uint32_t need) {
    if (!md || pairs < need) {
      if (md) pcre2_match_data_free(md);
      pairs = std::max<uint32_t>(need, 16);
      md = pcre2_match_data_create(pairs, nullptr);
      if (!md) throw std::bad_alloc();
    }
    return md;
  }
};

}  // namespace

// Runs one match; the ovector of the match stays in the thread's match data (valid until the
// thread's next match). nullptr when there is no match.
const size_t* PyRegex::exec(std::string_view s, size_t pos, uint32_t options) const {
  if (pos > s.size()) return nullptr;
  thread_local MatchData data;
  pcre2_match_data* md = data.get(static_cast<uint32_t>(group_count_) + 1);
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, options,
                       md, nullptr);
  if (rc < 0) {
    if (rc == PCRE2_ERROR_NOMATCH) return nullptr;
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(rc, buf, sizeof(buf));
    throw Error(fmt::format("regular expression '{}' failed to match: {}", pattern_,
                            reinterpret_cast<const char*>(buf)));
  }
  // Groups past rc did not take part in the match: marked unset, as a fresh match data is.
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  for (size_t g = static_cast<size_t>(rc); g <= static_cast<size_t>(group_count_); ++g)
    ov[2 * g] = ov[2 * g + 1] = PCRE2_UNSET;
  return ov;
}

std::optional<PyMatch> PyRegex::run(std::string_view s, size_t pos, uint32_t options) const {
  const size_t* ov = exec(s, pos, options);
  if (!ov) return std::nullopt;
  PyMatch m;
  const size_t groups = static_cast<size_t>(group_count_) + 1;
  m.groups.resize(groups);
  m.spans.resize(groups, {std::string_view::npos, std::string_view::npos});
  for (size_t g = 0; g < groups; g++) {
    if (ov[2 * g] == PCRE2_UNSET) continue;
    m.spans[g] = {ov[2 * g], ov[2 * g + 1]};
    m.groups[g] = std::string(s.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
  }
  return m;
}

std::optional<PyMatch> PyRegex::search(std::string_view s, size_t pos) const {
  return run(s, pos, 0);
}

std::optional<PyMatch> PyRegex::match(std::string_view s, size_t pos) const {
  return run(s, pos, PCRE2_ANCHORED);
}

std::optional<PyMatch> PyRegex::fullmatch(std::string_view s) const {
  return run(s, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
}

std::vector<PyMatch> PyRegex::finditer(std::string_view s) const {
  // Python 3.7+: an empty match may directly follow a non-empty one, but the search after
  // an empty match must not return another empty match at the same position.
  std::vector<PyMatch> out;
  size_t pos = 0;
  uint32_t options = 0;
  while (pos <= s.size()) {
    auto m = run(s, pos, options);
    if (!m) break;
    options = m->end() == m->start() ? PCRE2_NOTEMPTY_ATSTART : 0;
    pos = m->end();
    out.push_back(std::move(*m));
  }
  return out;
}

Json PyRegex::findall(std::string_view s) const {
  // finditer's walk (see there), reading each match's groups straight from the ovector.
  Json out = Json::array();
  auto group = [&](const size_t* ov, int g) {
    size_t a = ov[2 * g];
    return a == PCRE2_UNSET ? std::string_view() : s.substr(a, ov[2 * g + 1] - a);
  };
  size_t pos = 0;
  uint32_t options = 0;
  while (pos <= s.size()) {
    const size_t* ov = exec(s, pos, options);
    if (!ov) break;
    const size_t start = ov[0], end = ov[1];
    if (group_count_ <= 1) {
      out.push_back(std::string(group(ov, group_count_)));
    } else {
      Json tuple = Json::array();
      for (int g = 1; g <= group_count_; g++) tuple.push_back(std::string(group(ov, g)));
      out.push_back(std::move(tuple));
    }
    options = end == start ? PCRE2_NOTEMPTY_ATSTART : 0;
    pos = end;
  }
  return out;
}

namespace {

std::vector<TemplatePart> parse_template(std::string_view repl, const PyRegex& rx,
                                         pcre2_code* code) {
  std::vector<TemplatePart> parts;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) parts.push_back(TemplatePart{std::move(lit), -1});
    lit.clear();
  };
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("bad replacement template '{}' for regex '{}': {}", std::string(repl),
                             rx.pattern(), why));
  };
  auto add_group = [&](int g) {
    if (g < 0 || g > rx.group_count()) throw bad(fmt::format("invalid group reference {}", g));
    flush();
    parts.push_back(TemplatePart{"", g});
  };
  const size_t n = repl.size();
  for (size_t i = 0; i < n; i++) {
    char c = repl[i];
    if (c != '\\') {
      lit += c;
      continue;
    }
    if (i + 1 >= n) throw bad("bad escape (end of pattern)");
    char e = repl[++i];
    if (e == 'g') {
      if (i + 1 >= n || repl[i + 1] != '<') throw bad("missing <");
      size_t close = repl.find('>', i + 2);
      if (close == std::string_view::npos) throw bad("missing >, unterminated name");
      std::string name(repl.substr(i + 2, close - i - 2));
      if (name.empty()) throw bad("missing group name");
      bool numeric = true;
      for (char d : name) numeric = numeric && is_digit(d);
      int g;
      if (numeric) {
        g = name.size() > 6 ? -1 : std::stoi(name);
      } else {
        g = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>(name.c_str()));
        if (g < 0) throw bad("unknown group name '" + name + "'");
      }
      add_group(g);
      i = close;
    } else if (e == '0') {
      // Octal escape: \0 followed by up to two octal digits.
      int v = 0;
      size_t k = 0;
      while (k < 2 && i + 1 < n && repl[i + 1] >= '0' && repl[i + 1] <= '7') {
        v = v * 8 + (repl[++i] - '0');
        k++;
      }
      lit += static_cast<char>(v);
    } else if (is_digit(e)) {
      if (i + 1 < n && is_digit(repl[i + 1])) {
        char d2 = repl[i + 1];
        if (e <= '7' && d2 <= '7' && i + 2 < n && repl[i + 2] >= '0' && repl[i + 2] <= '7') {
          int v = (e - '0') * 64 + (d2 - '0') * 8 + (repl[i + 2] - '0');
          if (v > 0377) throw bad("octal escape value outside of range 0-0o377");
          std::string u;
          if (v < 0x80) {
            u += static_cast<char>(v);
          } else {
            u += static_cast<char>(0xC0 | (v >> 6));
            u += static_cast<char>(0x80 | (v & 0x3F));
          }
          lit += u;
          i += 2;
          continue;
        }
        add_group((e - '0') * 10 + (d2 - '0'));
        i++;
      } else {
        add_group(e - '0');
      }
    } else {
      switch (e) {
        case 'a':
          lit += '\a';
          break;
        case 'b':
          lit += '\b';
          break;
        case 'f':
          lit += '\f';
          break;
        case 'n':
          lit += '\n';
          break;
        case 'r':
          lit += '\r';
          break;
        case 't':
          lit += '\t';
          break;
        case 'v':
          lit += '\v';
          break;
        case '\\':
          lit += '\\';
          break;
        default:
          if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
            throw bad(fmt::format("bad escape \\{}", e));
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

std::string PyRegex::sub(std::string_view repl, std::string_view s, int64_t count) const {
  auto parts = parse_template(repl, *this, impl_->code);
  std::string out;
  size_t last = 0;
  int64_t done = 0;
  size_t pos = 0;
  uint32_t options = 0;
  while (pos <= s.size() && (count <= 0 || done < count)) {
    auto m = run(s, pos, options);
    if (!m) break;
    out.append(s.substr(last, m->start() - last));
    for (const TemplatePart& part : parts) {
      if (part.group < 0) {
        out += part.literal;
      } else if (m->groups[part.group]) {
        out += *m->groups[part.group];
      }
    }
    last = m->end();
    done++;
    options = m->end() == m->start() ? PCRE2_NOTEMPTY_ATSTART : 0;
    pos = m->end();
  }
  out.append(s.substr(last));
  return out;
}

std::vector<std::optional<std::string>> PyRegex::split(std::string_view s, int64_t maxsplit) const {
  std::vector<std::optional<std::string>> out;
  size_t last = 0;
  int64_t done = 0;
  size_t pos = 0;
  uint32_t options = 0;
  while (pos <= s.size() && (maxsplit <= 0 || done < maxsplit)) {
    auto m = run(s, pos, options);
    if (!m) break;
    out.emplace_back(std::string(s.substr(last, m->start() - last)));
    for (int g = 1; g <= group_count_; g++) out.push_back(m->groups[g]);
    last = m->end();
    done++;
    options = m->end() == m->start() ? PCRE2_NOTEMPTY_ATSTART : 0;
    pos = m->end();
  }
  out.emplace_back(std::string(s.substr(last)));
  return out;
}

std::optional<PyMatch> py_re_search(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->search(s);
}
std::optional<PyMatch> py_re_fullmatch(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->fullmatch(s);
}
Json py_re_findall(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->findall(s);
}
std::string py_re_sub(const std::string& p, std::string_view r, std::string_view s, int64_t c,
                      int f) {
  return PyRegex::compile(p, f)->sub(r, s, c);
}
std::vector<std::optional<std::string>> py_re_split(const std::string& p, std::string_view s,
                                                    int64_t m, int f) {
  return PyRegex::compile(p, f)->split(s, m);
}

std::string py_re_escape(std::string_view s) {
  static constexpr std::string_view kSpecial = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace retort
