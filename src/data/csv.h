// CSV (RFC 4180) parsing into Docs, shared by read_rows and the fuzz targets. The shape of
// the result follows Hugging Face `datasets` (which reads CSV with pandas):
//  - the first record is the header; quoted fields may hold separators, newlines and
//    doubled quotes; CRLF, LF or CR line ends; a UTF-8 BOM is skipped; blank lines are
//    skipped; a record with fewer fields gets nulls, one with more is an error.
//  - column types are inferred as pandas.read_csv does: a column whose non-missing values
//    are all integers becomes int (float when some are missing), all numbers becomes
//    float, all True/False literals becomes bool, anything else stays string. Missing
//    values (empty field, NA, N/A, NaN, null, None, #N/A, ...) become null, in string
//    columns too. Duplicate header names get pandas' ".1", ".2" suffixes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/formats.h"
#include "util/json.h"

namespace retort {

// `where` names the source in errors ("file.csv" gives "file.csv:12: ...").
std::vector<Doc> parse_csv(std::string_view text, const std::string& where,
                           const ReadOptions& opts = {});

}  // namespace retort
