#include "data/jsonl.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "data/base64.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {

void normalize_rows(std::vector<Doc>& rows, const std::string& where, const ReadOptions& opts) {
  std::vector<std::string> cols;
  std::unordered_set<std::string> colset;
  bool uniform = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Doc& r = rows[i];
    size_t k = 0;
    for (auto it = r.begin(); it != r.end(); ++it, ++k) {
      if (colset.insert(it.key()).second) {
        cols.push_back(it.key());
        if (i > 0) uniform = false;
      } else if (k >= cols.size() || cols[k] != it.key()) {
        uniform = false;
      }
    }
    if (r.size() != cols.size()) uniform = false;
  }
  std::vector<std::string> out_cols = cols;
  if (!opts.columns.empty()) {
    for (const auto& c : opts.columns) {
      if (!colset.count(c) && !rows.empty()) {
        auto near = closest_matches(c, cols);
        throw Error(
            "no column '" + c + "'", where,
            near.empty() ? "columns: " + join(cols, ", ") : "did you mean '" + near[0] + "'?");
      }
    }
    out_cols.clear();
    for (const auto& c : cols) {
      if (std::find(opts.columns.begin(), opts.columns.end(), c) != opts.columns.end()) {
        out_cols.push_back(c);
      }
    }
    uniform = false;
  }
  if (uniform) return;
  for (auto& r : rows) {
    Doc n = Doc::object();
    for (const auto& c : out_cols) {
      auto it = r.find(c);
      n[c] = it != r.end() ? std::move(*it) : Json();
    }
    r = std::move(n);
  }
}

std::vector<Doc> parse_jsonl(std::string_view text, const std::string& where,
                             const ReadOptions& opts) {
  std::vector<Doc> rows;
  size_t pos = 0, line = 0;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos < text.size() && (opts.limit < 0 || static_cast<int64_t>(rows.size()) < opts.limit)) {
    size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(pos, e - pos);
    pos = e + 1;
    ++line;
    size_t a = 0;
    while (a < l.size() && (l[a] == ' ' || l[a] == '\t' || l[a] == '\r')) ++a;
    if (a == l.size()) continue;
    Json v = Json::parse(l.begin(), l.end(), nullptr, false);
    if (v.is_discarded()) {
      // Re-parse with exceptions on to get the parser's description of the problem.
      std::string detail;
      try {
        Json probe = Json::parse(l.begin(), l.end());
        (void)probe;
      } catch (const std::exception& ex) {
        detail = ex.what();
        if (auto p = detail.find("parse error"); p != std::string::npos) detail = detail.substr(p);
      }
      throw Error("invalid JSON" + (detail.empty() ? "" : " (" + detail + ")"),
                  where + ":" + std::to_string(line));
    }
    if (!v.is_object()) {
      throw Error(std::string("expected a JSON object per line, found ") + v.type_name(),
                  where + ":" + std::to_string(line));
    }
    rows.push_back(std::move(v));
  }
  normalize_rows(rows, where, opts);
  return rows;
}

std::vector<Doc> parse_json(std::string_view text, const std::string& where,
                            const ReadOptions& opts) {
  Json v = Json::parse(text.begin(), text.end(), nullptr, false);
  if (v.is_discarded()) return parse_jsonl(text, where, opts);  // JSON Lines in a .json file
  Json* arr = nullptr;
  if (v.is_array()) {
    arr = &v;
  } else if (v.is_object() && v.size() == 1 && v.begin()->is_array()) {
    arr = &*v.begin();
  } else if (v.is_object()) {
    std::vector<Doc> rows;
    if (opts.limit != 0) rows.push_back(std::move(v));
    normalize_rows(rows, where, opts);
    return rows;
  } else {
    throw Error(std::string("expected an array of objects, found ") + v.type_name(), where);
  }
  std::vector<Doc> rows;
  size_t n = arr->size();
  if (opts.limit >= 0 && static_cast<size_t>(opts.limit) < n) n = static_cast<size_t>(opts.limit);
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Json& r = (*arr)[i];
    if (!r.is_object()) {
      throw Error(std::string("element ") + std::to_string(i) + " is " + r.type_name() +
                      ", expected an object",
                  where);
    }
    rows.push_back(std::move(r));
  }
  normalize_rows(rows, where, opts);
  return rows;
}

namespace {

// Appends s quoted and escaped as nlohmann does; false when s is not valid UTF-8 (the caller
// then lets the library apply its replacement rules).
bool append_string(const std::string& s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* end = p + s.size();
  bool ascii_only = true;
  out += '"';
  const char* run = p;
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  for (; p < end; ++p) {
    // Eight bytes at a time while none needs escaping (no control byte, quote or backslash).
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      uint64_t ctrl = (w - kOnes * 0x20) & ~w & kHigh;
      uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
      uint64_t special = ctrl | ((q - kOnes) & ~q & kHigh) | ((b - kOnes) & ~b & kHigh);
      if (special) break;
      ascii_only &= (w & kHigh) == 0;
      p += 8;
    }
    if (p >= end) break;
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ascii_only &= c < 0x80;
      continue;
    }
    out.append(run, static_cast<size_t>(p - run));
    run = p + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(run, static_cast<size_t>(end - run));
  out += '"';
  return ascii_only || is_valid_utf8(s);
}

void append_value(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        size_t mark = out.size();
        if (!append_string(it.key(), out)) {
          out.resize(mark);
          out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace);
        }
        out += ':';
        append_value(*it, out);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        append_value(e, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      size_t mark = out.size();
      if (!append_string(s, out)) {
        out.resize(mark);
        out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      return;
    }
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get<int64_t>());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get<uint64_t>());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case Json::value_t::null:
      out += "null";
      return;
    default:  // floats (nlohmann's shortest round-trip format), binary, discarded
      out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

}  // namespace

void append_json_line(const Json& v, std::string& out) {
  append_value(v, out);
  out += '\n';
}

}  // namespace retort
