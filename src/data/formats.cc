#include "data/formats.h"

#include <cstring>
#include <filesystem>

#include "data/compress.h"
#include "data/csv.h"
#include "data/jsonl.h"
#include "data/parquet.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {

FileFormat detect_format(const std::string& path) {
  std::string p = to_lower(std::filesystem::path(path).filename().string());
  for (const char* z : {".gz", ".zst", ".zstd"}) {
    if (ends_with(p, z)) {
      p.resize(p.size() - std::strlen(z));
      break;
    }
  }
  if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson")) return FileFormat::kJsonl;
  if (ends_with(p, ".json")) return FileFormat::kJson;
  if (ends_with(p, ".csv")) return FileFormat::kCsv;
  if (ends_with(p, ".parquet") || ends_with(p, ".pq")) return FileFormat::kParquet;
  return FileFormat::kUnknown;
}

std::vector<Doc> read_rows(const std::string& path, const ReadOptions& opts) {
  FileFormat f = detect_format(path);
  if (f == FileFormat::kParquet) return read_parquet(path, opts);
  if (f == FileFormat::kUnknown) {
    throw Error("unknown data file format", path,
                "use .jsonl, .json, .csv or .parquet (optionally .gz or .zst)");
  }
  if (std::filesystem::is_directory(path)) throw Error("is a directory, not a data file", path);
  std::string text = read_file_maybe_compressed(path);
  switch (f) {
    case FileFormat::kJsonl:
      return parse_jsonl(text, path, opts);
    case FileFormat::kJson:
      return parse_json(text, path, opts);
    default:
      return parse_csv(text, path, opts);
  }
}

}  // namespace retort
