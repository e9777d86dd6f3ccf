// A parquet reader of our own (Debian 12 has no Arrow), written from the Apache Parquet
// format specification. It reads what the Hub's writers (pyarrow, polars, Spark, DuckDB)
// produce: data pages v1 and v2; PLAIN, dictionary (with fallback to PLAIN mid-chunk),
// RLE / bit-packed, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
// BYTE_STREAM_SPLIT encodings; UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW and legacy LZ4
// codecs; nested lists (3-level and legacy 2-level), structs and maps.
//
// Values become JSON the way DuckDB's JSON output shows them, except where that would lose
// what Python (pyarrow -> `datasets` -> lm-eval) sees:
//   strings (UTF8/STRING/ENUM/JSON-as-text) -> string; byte arrays that are not UTF-8 ->
//   base64 string; ints/floats/bools -> numbers/bools (NaN and +-inf stay non-finite
//   doubles, as Python floats: templates print nan/inf, samples NaN/Infinity); DATE ->
//   "YYYY-MM-DD"; TIMESTAMP/INT96 -> "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC, with "+00" when
//   the column is UTC-adjusted); TIME -> "HH:MM:SS[.ffffff]"; DECIMAL -> string, the text of
//   Python's str(decimal.Decimal) ("1.50", "1E-10": every digit kept, which a double would
//   not); UUID -> canonical 8-4-4-4-12 text;
//   lists -> arrays; structs -> objects; maps -> objects when every key is a string,
//   else arrays of {"key","value"} objects.
//
// Corrupt or truncated files throw retort::Error naming the file and what is wrong; sizes
// read from the file are checked against the file before anything is allocated.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/formats.h"
#include "util/json.h"

namespace retort {

struct ParquetColumnInfo {
  std::string path;           // dotted path of the leaf ("choices.list.element")
  std::string physical_type;  // "BYTE_ARRAY", "INT64", ...
  std::string logical_type;   // "STRING", "TIMESTAMP(us)", "DECIMAL(10,2)", ... or ""
  int max_definition_level = 0;
  int max_repetition_level = 0;
};

struct ParquetRowGroupInfo {
  int64_t num_rows = 0;
  int64_t total_byte_size = 0;
  // Per leaf column (same order as ParquetInfo::leaves): codec and encodings used.
  std::vector<std::string> codecs;
  std::vector<std::vector<std::string>> encodings;
};

struct ParquetInfo {
  int64_t num_rows = 0;
  int32_t version = 0;
  std::string created_by;
  std::vector<ParquetRowGroupInfo> row_groups;
  std::vector<std::string> columns;       // top-level columns, in schema order
  std::vector<ParquetColumnInfo> leaves;  // leaf columns, in schema order
  // The schema as DuckDB-like type text per top-level column ("list<struct<a: string>>").
  std::vector<std::pair<std::string, std::string>> column_types;
  // Key-value metadata, in file order ("huggingface" holds the datasets features JSON).
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
};

// Reads only the footer of a parquet file.
ParquetInfo parquet_info(const std::string& path);
ParquetInfo parquet_info_buffer(std::string_view bytes, const std::string& where);

// Reads rows (all, or opts.columns only: just those column chunks are decoded; at most
// opts.limit rows, reading only the row groups needed).
std::vector<Doc> read_parquet(const std::string& path, const ReadOptions& opts = {});
// Streams the rows one row group at a time, so memory stays bounded for large files; fn gets
// each batch (it may move from it).
void read_parquet_batches(const std::string& path, const ReadOptions& opts,
                          const std::function<void(std::vector<Doc>&)>& fn);
// Same, from bytes in memory (`where` names them in errors). Used by tests and fuzzing.
std::vector<Doc> read_parquet_buffer(std::string_view bytes, const std::string& where,
                                     const ReadOptions& opts = {});

}  // namespace retort
