// Reading rows from one local data file, whatever its format. Every format yields the same
// Doc values: JSON objects with the columns in file order; parquet nested values become JSON
// lists/objects, byte arrays that are not UTF-8 become base64 strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort {

enum class FileFormat { kUnknown, kJsonl, kJson, kCsv, kParquet };

// By extension, looking through a trailing .gz / .zst (".jsonl.gz" is kJsonl). ".json"
// holding lines is still kJson; read_rows accepts both shapes for it.
FileFormat detect_format(const std::string& path);

struct ReadOptions {
  std::vector<std::string> columns;  // only these columns (empty = all)
  int64_t limit = -1;                // at most this many rows (-1 = all)
};

// Reads the rows of a local file. Throws retort::Error naming the file (and line/row/column
// where it can) for unreadable, corrupt or unknown-format files.
std::vector<Doc> read_rows(const std::string& path, const ReadOptions& opts = {});

}  // namespace retort
