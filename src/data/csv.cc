#include "data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

// Splits CSV text into records of fields. Tracks the 1-based line where each record starts.
struct CsvRecord {
  std::vector<std::string> fields;
  size_t line = 0;
};

class CsvScanner {
 public:
  CsvScanner(std::string_view text, const std::string& where) : s_(text), where_(where) {
    if (s_.size() >= 3 && s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  // Next non-blank record; false at end of input.
  bool next(CsvRecord& rec) {
    while (pos_ < s_.size()) {
      rec.fields.clear();
      rec.line = line_;
      // A blank line (only a line break) is skipped, as pandas does.
      if (s_[pos_] == '\n') {
        ++pos_;
        ++line_;
        continue;
      }
      if (s_[pos_] == '\r' && (pos_ + 1 >= s_.size() || s_[pos_ + 1] == '\n')) {
        pos_ += pos_ + 1 < s_.size() ? 2 : 1;
        ++line_;
        continue;
      }
      read_record(rec);
      return true;
    }
    return false;
  }

 private:
  void read_record(CsvRecord& rec) {
    std::string field;
    for (;;) {
      field.clear();
      if (pos_ < s_.size() && s_[pos_] == '"') {
        size_t start_line = line_;
        ++pos_;
        for (;;) {
          if (pos_ >= s_.size()) {
            throw Error(
                "unterminated quoted field (opened on line " + std::to_string(start_line) + ")",
                where_ + ":" + std::to_string(start_line),
                "close the quote, or double quotes inside a quoted field (\"\")");
          }
          size_t q = s_.find('"', pos_);
          if (q == std::string_view::npos) q = s_.size();
          std::string_view chunk = s_.substr(pos_, q - pos_);
          for (char c : chunk) line_ += c == '\n';
          field.append(chunk);
          pos_ = q;
          if (pos_ >= s_.size()) continue;
          if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
            field += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;  // closing quote
          break;
        }
        // Text after the closing quote up to the separator is kept (lenient, like pandas).
        while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n' && s_[pos_] != '\r') {
          field += s_[pos_++];
        }
      } else {
        size_t e = pos_;
        while (e < s_.size() && s_[e] != ',' && s_[e] != '\n' && s_[e] != '\r') ++e;
        field.assign(s_.substr(pos_, e - pos_));
        pos_ = e;
      }
      rec.fields.push_back(std::move(field));
      if (pos_ >= s_.size()) return;
      char c = s_[pos_];
      if (c == ',') {
        ++pos_;
        if (pos_ >= s_.size()) {
          rec.fields.emplace_back();
          return;
        }
        continue;
      }
      // End of record: \n, \r\n or a lone \r.
      if (c == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
      return;
    }
  }

  std::string_view s_;
  const std::string& where_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

bool is_na(const std::string& v) {
  static const std::unordered_set<std::string> kNa = {
      "",     "#N/A",   "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
      "-nan", "1.#IND", "1.#QNAN",  "<NA>", "N/A",     "NA",       "NULL",
      "NaN",  "None",   "n/a",      "nan",  "null"};
  return kNa.count(v) > 0;
}

bool parse_int(const std::string& v, int64_t& out) {
  const char* b = v.data();
  const char* e = b + v.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e;
}

bool parse_float(const std::string& v, double& out) {
  const char* b = v.data();
  const char* e = b + v.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  std::string_view rest(b, e - b);
  std::string low = to_lower(rest);
  bool neg = !v.empty() && v[0] == '-';
  if (low == "inf" || low == "infinity" || low == "-inf" || low == "-infinity") {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  auto [p, ec] = std::from_chars(b, e, out);
  return (ec == std::errc() || ec == std::errc::result_out_of_range) && p == e;
}

enum class ColType { kInt, kFloat, kBool, kString, kNull };

}  // namespace

std::vector<Doc> parse_csv(std::string_view text, const std::string& where,
                           const ReadOptions& opts) {
  CsvScanner scan(text, where);
  CsvRecord rec;
  if (!scan.next(rec)) return {};
  std::vector<std::string> header = rec.fields;
  // pandas mangles duplicate names: a, a.1, a.2 ...
  std::unordered_map<std::string, int> seen;
  std::unordered_set<std::string> names(header.begin(), header.end());
  for (auto& h : header) {
    int& n = seen[h];
    if (n > 0) {
      std::string cand;
      do {
        cand = h + "." + std::to_string(n++);
      } while (names.count(cand));
      names.insert(cand);
      h = cand;
    } else {
      n = 1;
    }
  }
  size_t ncol = header.size();
  std::vector<char> keep(ncol, 1);
  if (!opts.columns.empty()) {
    for (const auto& c : opts.columns) {
      if (std::find(header.begin(), header.end(), c) == header.end()) {
        auto near = closest_matches(c, header);
        throw Error(
            "no column '" + c + "'", where,
            near.empty() ? "columns: " + join(header, ", ") : "did you mean '" + near[0] + "'?");
      }
    }
    for (size_t i = 0; i < ncol; ++i) {
      keep[i] =
          std::find(opts.columns.begin(), opts.columns.end(), header[i]) != opts.columns.end();
    }
  }
  std::vector<std::vector<std::string>> records;
  while ((opts.limit < 0 || static_cast<int64_t>(records.size()) < opts.limit) && scan.next(rec)) {
    if (rec.fields.size() > ncol) {
      throw Error(
          "expected " + std::to_string(ncol) + " fields, saw " + std::to_string(rec.fields.size()),
          where + ":" + std::to_string(rec.line), "quote fields that contain commas");
    }
    rec.fields.resize(ncol);
    records.push_back(std::move(rec.fields));
    rec.fields = {};
  }
  // Infer each column's type over all rows.
  std::vector<ColType> types(ncol, ColType::kNull);
  std::vector<char> has_na(ncol, 0);
  for (size_t c = 0; c < ncol; ++c) {
    if (!keep[c]) continue;
    bool all_int = true, all_float = true, all_bool = true, any = false;
    for (const auto& r : records) {
      const std::string& v = r[c];
      if (is_na(v)) {
        has_na[c] = 1;
        continue;
      }
      any = true;
      int64_t i;
      double d;
      if (all_int && !parse_int(v, i)) all_int = false;
      if (!all_int && all_float && !parse_float(v, d)) all_float = false;
      if (all_bool && v != "True" && v != "TRUE" && v != "true" && v != "False" && v != "FALSE" &&
          v != "false") {
        all_bool = false;
      }
      if (!all_int && !all_float && !all_bool) break;
    }
    if (!any)
      types[c] = ColType::kNull;
    else if (all_int)
      types[c] = has_na[c] ? ColType::kFloat : ColType::kInt;
    else if (all_float)
      types[c] = ColType::kFloat;
    else if (all_bool)
      types[c] = ColType::kBool;
    else
      types[c] = ColType::kString;
  }
  std::vector<Doc> rows;
  rows.reserve(records.size());
  for (auto& r : records) {
    Doc row = Doc::object();
    for (size_t c = 0; c < ncol; ++c) {
      if (!keep[c]) continue;
      std::string& v = r[c];
      Json& cell = row[header[c]];
      if (is_na(v) || types[c] == ColType::kNull) continue;  // stays null
      switch (types[c]) {
        case ColType::kInt: {
          int64_t i = 0;
          parse_int(v, i);
          cell = i;
          break;
        }
        case ColType::kFloat: {
          double d = 0;
          parse_float(v, d);
          cell = d;
          break;
        }
        case ColType::kBool:
          cell = v[0] == 'T' || v[0] == 't';
          break;
        default:
          cell = std::move(v);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace retort
