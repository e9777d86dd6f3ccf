#include "data/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/formats.h"
#include "data/hub.h"
#include "data/resolve.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace fs = std::filesystem;

namespace {

// lm-eval / datasets "packaged" loaders that read data_files.
bool is_loader_name(const std::string& path) {
  return path == "json" || path == "csv" || path == "parquet" || path == "text";
}

std::string available(const std::vector<std::string>& names) {
  return names.empty() ? "none" : join(names, ", ");
}

std::vector<std::string> split_names(const SplitFiles& splits) {
  std::vector<std::string> out;
  for (const auto& s : splits) out.push_back(s.first);
  return out;
}

// All data files under dir (recursive), as paths relative to dir, sorted; hidden
// files/folders skipped.
std::vector<std::string> data_files_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (starts_with(name, ".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::string rel = it->path().lexically_relative(dir).generic_string();
    if (is_data_file(rel)) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Expands one data_files entry (a path, a directory or a glob) against base.
std::vector<std::string> expand_local(const std::string& pattern, const std::string& base) {
  fs::path p(pattern);
  if (p.is_relative() && !base.empty()) p = fs::path(base) / p;
  std::string full = p.lexically_normal().generic_string();
  if (!has_glob_chars(full)) {
    std::error_code ec;
    if (fs::is_directory(full, ec)) {
      std::vector<std::string> out;
      for (const auto& rel : data_files_under(full)) out.push_back(full + "/" + rel);
      if (out.empty()) throw Error("directory holds no data files", full);
      return out;
    }
    if (!fs::exists(full, ec)) {
      throw Error("data file not found", full,
                  "data_files paths are relative to the task file's directory");
    }
    return {full};
  }
  // Walk from the deepest directory before the first glob component.
  std::vector<std::string> parts = split(full, '/');
  std::string root;
  size_t i = 0;
  for (; i < parts.size(); ++i) {
    if (has_glob_chars(parts[i])) break;
    root += (i == 0 ? "" : "/") + parts[i];
  }
  if (root.empty()) root = full[0] == '/' ? "/" : ".";
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  std::string rest_pattern = join(rest, "/");
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::is_directory(root, ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = it->path().lexically_relative(root).generic_string();
      if (glob_match(rest_pattern, rel)) out.push_back(it->path().generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) throw Error("no files match the pattern", full);
  return out;
}

std::vector<Doc> read_text_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file", path);
  std::vector<Doc> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Doc d = Json::object();
    d["text"] = line;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Doc> read_files(const std::vector<std::string>& files, const DatasetRef& ref,
                            const std::string& split, const std::string& where) {
  std::vector<Doc> docs;
  for (const auto& f : files) {
    std::string lower = to_lower(f);
    bool text = ref.path == "text" || ends_with(lower, ".txt") || ends_with(lower, ".txt.gz");
    if (!text && !is_data_file(f)) {
      throw Error("unknown data file format", f,
                  "use .jsonl, .json, .csv or .parquet (optionally compressed as .gz or .zst)");
    }
    std::vector<Doc> rows;
    if (text) {
      rows = read_text_lines(f);
    } else {
      ReadOptions opts;
      opts.columns = ref.columns;
      rows = read_rows(f, opts);
    }
    if (docs.empty()) {
      docs = std::move(rows);
    } else {
      docs.insert(docs.end(), std::make_move_iterator(rows.begin()),
                  std::make_move_iterator(rows.end()));
    }
  }
  if (docs.empty()) {
    throw Error("split '" + split + "' has no rows", where,
                "check the data files: " + join(files, ", "));
  }
  return docs;
}

// The data_files entry for a split. Names given explicitly match exactly.
const std::vector<std::string>* data_files_for(const DatasetRef& ref, const std::string& split) {
  auto it = ref.data_files.find(split);
  return it == ref.data_files.end() ? nullptr : &it->second;
}

std::vector<std::string> data_files_splits(const DatasetRef& ref) {
  std::vector<std::string> out;
  for (const auto& [name, files] : ref.data_files) out.push_back(name);
  return out;
}

const std::vector<std::string>* find_split(const SplitFiles& splits, const std::string& split) {
  for (const auto& [name, files] : splits) {
    if (name == split) return &files;
  }
  for (const auto& [name, files] : splits) {
    if (canonical_split(name) == canonical_split(split)) return &files;
  }
  return nullptr;
}

// What a local source holds for one split: the files, or nullopt with the splits that exist.
struct LocalPlan {
  std::vector<std::string> files;
  std::vector<std::string> splits;  // what exists, for the error
  std::string where;
  bool found = false;
};

LocalPlan plan_local(const DatasetRef& ref, const std::string& split) {
  LocalPlan plan;
  if (!ref.data_files.empty()) {
    // data_files resolve against the dataset directory when path is one, else base_dir.
    std::string base = ref.base_dir;
    std::error_code ec;
    if (!ref.path.empty() && !is_loader_name(ref.path)) {
      fs::path dir(ref.path);
      if (dir.is_relative() && !ref.base_dir.empty()) dir = fs::path(ref.base_dir) / dir;
      if (fs::is_directory(dir, ec)) base = dir.generic_string();
    }
    plan.where = ref.path.empty() ? "data_files" : ref.path + " (data_files)";
    plan.splits = data_files_splits(ref);
    if (const auto* patterns = data_files_for(ref, split)) {
      for (const auto& pat : *patterns) {
        for (auto& f : expand_local(pat, base)) plan.files.push_back(std::move(f));
      }
      plan.found = true;
    }
    return plan;
  }
  if (is_loader_name(ref.path)) {
    throw Error("dataset_path '" + ref.path + "' needs data_files", ref.path,
                "add dataset_kwargs: {data_files: {" + split + ": path/to/file}}");
  }
  fs::path p(ref.path);
  if (p.is_relative() && !ref.base_dir.empty() && !fs::exists(p)) p = fs::path(ref.base_dir) / p;
  std::string path = p.lexically_normal().generic_string();
  plan.where = path;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    // A single file is the whole dataset: it serves whichever split the task asks for.
    plan.files = {path};
    plan.splits = {split};
    plan.found = true;
    return plan;
  }
  std::string dir = path;
  if (!ref.name.empty() && fs::is_directory(fs::path(dir) / ref.name, ec)) {
    dir = (fs::path(dir) / ref.name).generic_string();
  }
  std::vector<std::string> rel = data_files_under(dir);
  if (rel.empty()) throw Error("directory holds no data files", dir);
  SplitFiles splits = splits_from_file_names(rel);
  plan.splits = split_names(splits);
  plan.where = dir;
  if (const auto* files = find_split(splits, split)) {
    for (const auto& f : *files) plan.files.push_back(dir + "/" + f);
    plan.found = true;
  }
  return plan;
}

bool is_local(const DatasetRef& ref) {
  if (ref.path.empty() || is_loader_name(ref.path)) return true;
  std::error_code ec;
  if (fs::exists(ref.path, ec)) return true;
  if (!ref.base_dir.empty() && fs::path(ref.path).is_relative() &&
      fs::exists(fs::path(ref.base_dir) / ref.path, ec)) {
    return true;
  }
  return !looks_like_hub_repo(ref.path);
}

void check_local_exists(const DatasetRef& ref) {
  if (ref.path.empty() || is_loader_name(ref.path)) return;
  std::error_code ec;
  fs::path p(ref.path);
  if (fs::exists(p, ec)) return;
  if (!ref.base_dir.empty() && p.is_relative() && fs::exists(fs::path(ref.base_dir) / p, ec)) {
    return;
  }
  throw Error("dataset not found: not a local file or directory, nor a Hub repo id", ref.path,
              "give a path to a .jsonl/.json/.csv/.parquet file or directory, or a Hub id "
              "such as org/name");
}

// Hub: the local paths of a split's files, or nothing when the split does not exist (then
// `splits` lists those that do).
bool plan_hub(const DatasetRef& ref, const std::string& split, bool download,
              std::vector<std::string>& files, std::vector<std::string>& splits) {
  HubSettings settings = HubSettings::from_env();
  std::string revision = ref.revision.empty() ? "main" : ref.revision;
  if (!ref.data_files.empty()) {
    HubDatasetInfo info = hub_dataset_info(ref.path, revision, settings);
    splits = data_files_splits(ref);
    const auto* patterns = data_files_for(ref, split);
    if (!patterns) return false;
    std::vector<std::string> paths = match_files(*patterns, info.files);
    if (paths.empty()) {
      throw Error("no files in the repo match data_files for split '" + split + "'",
                  ref.path + "@" + revision, "patterns: " + join(*patterns, ", "));
    }
    if (download) {
      for (const auto& p : paths)
        files.push_back(hub_download_file(ref.path, p, info.commit, settings));
    } else {
      files = paths;
    }
    return true;
  }
  if (!download) {
    HubDatasetInfo info = hub_dataset_info(ref.path, revision, settings);
    const HubConfigInfo& config = hub_pick_config(info, ref.name);
    for (const auto& s : config.splits) {
      splits.push_back(s.name);
      if (s.name == split) files = s.files;
    }
    if (files.empty() && info.source == "files") {
      for (const auto& s : config.splits) {
        if (canonical_split(s.name) == canonical_split(split)) files = s.files;
      }
    }
    return !files.empty();
  }
  files = hub_resolve_files(ref.path, ref.name, split, revision, settings);
  return true;
}

}  // namespace

std::vector<Doc> load_split(const DatasetRef& ref, const std::string& split) {
  if (is_local(ref)) {
    check_local_exists(ref);
    LocalPlan plan = plan_local(ref, split);
    if (!plan.found) {
      throw Error("split '" + split + "' not found", plan.where,
                  "available splits: " + available(plan.splits));
    }
    return read_files(plan.files, ref, split, plan.where);
  }
  std::vector<std::string> files, splits;
  if (!plan_hub(ref, split, /*download=*/true, files, splits)) {
    throw Error("split '" + split + "' not found", ref.path,
                "available splits: " + available(splits));
  }
  std::string where = ref.path + (ref.name.empty() ? "" : " (" + ref.name + ")");
  return read_files(files, ref, split, where);
}

bool has_split(const DatasetRef& ref, const std::string& split) {
  if (is_local(ref)) {
    check_local_exists(ref);
    return plan_local(ref, split).found;
  }
  std::vector<std::string> files, splits;
  return plan_hub(ref, split, /*download=*/false, files, splits);
}

}  // namespace retort
