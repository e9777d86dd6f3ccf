// Internal to report/: terminal text helpers (display width of UTF-8 text, padding).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace retort::report_text {

// Columns the text takes in a terminal: East Asian wide/fullwidth characters count 2,
// combining marks and controls 0, everything else (ambiguous-width included) 1.
size_t display_width(std::string_view utf8);
// Pads with spaces on the right / left / both (extra space on the right, like Python's
// "{:^n}") to at least width columns.
std::string pad_right(std::string_view s, size_t width);
std::string pad_left(std::string_view s, size_t width);
std::string center(std::string_view s, size_t width);
// The longest prefix that fits in width columns ("…" appended when cut and room allows).
std::string truncate(std::string_view s, size_t width);
// Python's f"{v:.{decimals}f}".
std::string fixed(double v, int decimals);
std::string repeat(std::string_view s, size_t n);

// One row of lm-eval's score table (utils.py:make_table), before formatting.
struct ScoreRow {
  std::string key;      // the results key (task or group name)
  std::string name;     // alias, indented by hierarchy depth; "" on continuation rows
  std::string version;  // "" on continuation rows
  std::string filter;
  std::string n_shot;
  std::string metric;
  std::string arrow;  // "↑", "↓" or ""
  Json value;
  bool has_stderr = false;
  Json stderr_value;  // a number or "N/A"
  int depth = 0;
};
// The rows of results[column] ("results" or "groups") in make_table's order.
std::vector<ScoreRow> score_rows(const Json& results, const std::string& column);

}  // namespace retort::report_text
