#include "data/jsonl.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "util/base64.h"
#include "util/error.h"
#include "util/json_parse.h"
#include "util/json_writer.h"
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
  FastJsonParser fast;
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
    // The fast reader gives Json::parse's value or declines; then nlohmann reads the line
    // (and words the error).
    Json v;
    if (!fast.parse(l, v)) v = Json::parse(l.begin(), l.end(), nullptr, false);
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
  Json v;
  if (!parse_json_fast(text, v)) v = Json::parse(text.begin(), text.end(), nullptr, false);
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

void append_json_py_floats(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, k);
        out += ':';
        append_json_py_floats(x, out);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v) {
        if (!first) out += ',';
        first = false;
        append_json_py_floats(x, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        out += "NaN";
        return;
      }
      if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
        return;
      }
      append_json(out, v);
      return;
    }
    default:
      append_json(out, v);
  }
}

}  // namespace

void append_json_line(const Json& v, std::string& out) {
  append_json_py_floats(v, out);
  out += '\n';
}

}  // namespace retort
