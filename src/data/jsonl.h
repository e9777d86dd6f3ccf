// JSON and JSON Lines parsing into Docs, shaped as Hugging Face `datasets` loads them:
//  - JSON Lines: one object per non-blank line; errors name the line.
//  - JSON: an array of objects, an object holding exactly one array ({"data": [...]}), a
//    single object (one row), or JSON Lines content in a .json file.
//  Rows missing a column that other rows have get null for it, and every row lists the
//  columns in first-seen order (datasets builds one schema for the whole file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/formats.h"
#include "util/json.h"

namespace retort {

std::vector<Doc> parse_jsonl(std::string_view text, const std::string& where,
                             const ReadOptions& opts = {});
std::vector<Doc> parse_json(std::string_view text, const std::string& where,
                            const ReadOptions& opts = {});

// Appends v as compact JSON plus '\n' to out: byte-for-byte what
// v.dump(-1, ' ', false, Json::error_handler_t::replace) gives, several times faster for the
// string-heavy rows of datasets (it is the inner loop of `retort data dump`), except for
// non-finite floats: dump() writes null, this writes NaN, Infinity and -Infinity as
// Python's json.dumps does (what lm-eval's samples show for a float('nan') in a doc).
void append_json_line(const Json& v, std::string& out);

// Keeps only opts.columns (in the rows' order) and gives every row the same columns;
// throws naming the unknown column (with suggestions) when one is not present.
void normalize_rows(std::vector<Doc>& rows, const std::string& where, const ReadOptions& opts);

}  // namespace retort
