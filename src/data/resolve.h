// Resolution of (config, split) to data files, shared by local directories and Hub repos:
// path globs, the split keywords the datasets library recognises in file names, and the
// `configs` block of a dataset card (README front matter). Pure functions over file lists,
// no I/O, so every rule is testable on its own.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json.h"

namespace retort {

// fnmatch-style glob over '/'-separated paths: '*' and '?' stay within one path component,
// '**' crosses components ("data/**" matches "data/a/b.parquet", "**/x" matches "x"),
// '[abc]', '[a-z]', '[!a]' character classes.
bool glob_match(std::string_view pattern, std::string_view path);
bool has_glob_chars(std::string_view s);

// Files whose extension (looking through .gz/.zst/.bz2) is one we read as rows:
// parquet, jsonl, json, csv, tsv, txt.
bool is_data_file(std::string_view path);

// The keywords the datasets library accepts in file names for a split:
// train/training, validation/valid/dev/val, test/testing/eval. Other names stand for
// themselves ("dev" is a synonym of validation; "auxiliary_train" only matches itself).
// The canonical split name for a keyword ("valid" -> "validation"; others unchanged).
std::vector<std::string> split_keywords(const std::string& split);
std::string canonical_split(const std::string& split);

// True when the file's path names this split by the conventional patterns: a directory
// named after a keyword, or a basename starting with it / containing it between separators
// ("test.jsonl", "data/test-00000-of-00001.parquet", "lambada_test.jsonl", "test/x.csv").
bool file_names_split(std::string_view path, const std::string& split);

using SplitFiles = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Groups data files into canonical splits (train, validation, test order) by their names.
// When no file names a split, every data file is "train" (the datasets library's rule).
SplitFiles splits_from_file_names(const std::vector<std::string>& files);

// Files (sorted, deduplicated) matching any of the patterns. Patterns without glob
// characters match a file exactly or everything under a directory of that name.
std::vector<std::string> match_files(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& files);

// One config of a dataset card: `config_name`, `data_files` (a string, a list of strings,
// or a list of {split, path}), `data_dir`, `default`.
struct CardConfig {
  std::string name;
  bool is_default = false;
  std::string data_dir;                                                      // may be empty
  std::vector<std::pair<std::string, std::vector<std::string>>> data_files;  // split -> globs
};

// The `configs` of cardData (empty when the card has none). Throws retort::Error for a
// malformed block.
std::vector<CardConfig> card_configs(const Json& card_data);

// Configs a repo without a `configs` block has: one "default" config over all data files,
// except that top-level folders holding split-named files ("main/test-*.parquet",
// "ARC-Easy/test-*.parquet") are configs of their own.
struct FileConfig {
  std::string name;
  SplitFiles splits;
};
std::vector<FileConfig> configs_from_file_names(const std::vector<std::string>& files);

// Stable split order for listings: train, validation, test, then the rest alphabetically.
void sort_splits(SplitFiles& splits);

}  // namespace retort
