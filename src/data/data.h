// The DatasetSource seam: from a task's data description to its rows. Local files
// (jsonl, json, csv, parquet, optionally .gz/.zst) and Hugging Face Hub repos both come
// through here, so the pipeline never cares where rows live.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort {

struct DatasetRef {
  // lm-eval `dataset_path`: a Hub repo id ("openai/gsm8k"), a loader name ("json", "csv",
  // "parquet") used with data_files, or a local file/directory path.
  std::string path;
  std::string name;      // lm-eval `dataset_name` (Hub config); may be empty
  std::string revision;  // Hub revision (branch, tag or commit); empty = "main"
  // lm-eval `dataset_kwargs.data_files`: split -> files (relative paths resolve against
  // base_dir).
  std::map<std::string, std::vector<std::string>> data_files;
  std::string base_dir;  // directory of the task file, for relative paths
  // Only these columns are needed (empty = all).
  std::vector<std::string> columns;
};

// Loads one split as Docs (JSON objects, columns in dataset order). Throws retort::Error
// naming the file/repo/split and listing the splits that exist when the split is missing.
std::vector<Doc> load_split(const DatasetRef& ref, const std::string& split);

// True when the split exists (without loading rows where the format allows).
bool has_split(const DatasetRef& ref, const std::string& split);

}  // namespace retort
