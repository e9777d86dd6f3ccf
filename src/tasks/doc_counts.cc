// Remembered eval-doc counts per task (see tasks.h): one small JSON object on disk,
// {"key": count}, merged and rewritten atomically by each run that loaded task data.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "tasks/task_index.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/user_folders.h"

namespace retort {

namespace fs = std::filesystem;

std::string doc_count_file() {
  const char* off = std::getenv("RETORT_DOC_COUNTS");
  if (off && std::string_view(off) == "off") return "";
  const std::string base = user_cache_folder();
  return base.empty() ? "" : base + "/doc_counts.json";
}

std::string doc_count_key(const TaskSpec& spec) {
  // Everything that decides which rows become eval docs, as one JSON text (stable: the
  // fields are written in a fixed order and data_files is an ordered map).
  Json k = Json::array({spec.name, spec.dataset.path, spec.dataset.name, spec.dataset.revision,
                        spec.eval_split().value_or(""), spec.process_docs});
  Json files = Json::object();
  for (const auto& [split, paths] : spec.dataset.data_files) files[split] = paths;
  k.push_back(files);
  return k.dump();
}

std::map<std::string, int64_t> remembered_doc_counts(const std::string& file) {
  std::map<std::string, int64_t> out;
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec)) return out;
  try {
    Json j = Json::parse(read_file(file));
    if (!j.is_object()) return out;
    for (const auto& [k, v] : j.items())
      if (v.is_number_integer()) out[k] = v.get<int64_t>();
  } catch (const std::exception& e) {
    log::debug("ignoring the remembered doc counts in {}: {}", file, e.what());
    out.clear();
  }
  return out;
}

void remember_doc_counts(const std::string& file, const std::map<std::string, int64_t>& counts) {
  if (file.empty() || counts.empty()) return;
  std::map<std::string, int64_t> all = remembered_doc_counts(file);
  bool changed = false;
  for (const auto& [k, n] : counts) {
    auto it = all.find(k);
    if (it != all.end() && it->second == n) continue;
    all[k] = n;
    changed = true;
  }
  if (!changed) return;
  Json j = Json::object();
  for (const auto& [k, n] : all) j[k] = n;
  try {
    std::error_code ec;
    fs::create_directories(fs::path(file).parent_path(), ec);
    write_file_atomic(file, j.dump(1) + "\n");
  } catch (const std::exception& e) {
    log::debug("could not remember doc counts in {}: {}", file, e.what());
  }
}

}  // namespace retort
