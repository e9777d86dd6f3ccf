// Hugging Face Hub datasets (and single files of model repos): what a repo holds (configs, splits,
// files) and local copies of its files in the cache layout huggingface_hub uses, so a cache filled
// by Python users is reused and vice versa:
//   $HF_HUB_CACHE/datasets--{org}--{name}/blobs/{etag}
//                                        /refs/{revision}          (holds the commit)
//                                        /snapshots/{commit}/{path} (relative symlink to blob)
// Environment: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN / HUGGING_FACE_HUB_TOKEN /
// $HF_HOME/token, HF_HUB_OFFLINE / HF_DATASETS_OFFLINE. Problems (gated repo, repo or
// revision not found, offline without a cached copy, unreachable endpoint, config or split
// not found) throw retort::Error with the URL/repo and what to do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace retort {

// Settings for talking to the Hub; from_env() reads the environment variables above.
struct HubSettings {
  std::string endpoint = "https://huggingface.co";  // no trailing '/'
  std::string token;                                // empty = anonymous
  std::string cache_dir;                            // the hub cache ($HF_HUB_CACHE)
  bool offline = false;
  bool progress = true;  // progress bar on stderr for downloads > 1 MB

  static HubSettings from_env();
};

// True when `path` names a Hub dataset rather than a local file or a loader name:
// "org/name" or a legacy single-word id ("gsm8k") that is not an existing local path.
bool looks_like_hub_repo(const std::string& path);

struct HubSplitInfo {
  std::string name;                // "test"
  std::vector<std::string> files;  // repo-relative paths, sorted
};

struct HubConfigInfo {
  std::string name;  // "main", "default", ...
  bool is_default = false;
  std::vector<HubSplitInfo> splits;  // in a stable order (train, validation, test, others)
};

struct HubDatasetInfo {
  std::string repo;      // as resolved (after a rename redirect, e.g. "openai/gsm8k")
  std::string revision;  // as asked ("main" when none was given)
  std::string commit;    // the commit the revision resolved to
  // Where the configs came from: "card" (README configs), "files" (conventional names) or
  // "parquet" (the auto-converted refs/convert/parquet branch).
  std::string source;
  std::vector<HubConfigInfo> configs;
  std::vector<std::string> files;  // every file in the repo at that commit (repo-relative)
};

// Lists the configs, splits and data files of a Hub dataset. Uses the cache when offline or
// when a commit is pinned and was seen before.
HubDatasetInfo hub_dataset_info(const std::string& repo, const std::string& revision = "",
                                const HubSettings& settings = HubSettings::from_env());

// The config named `config` (empty: the default one, or the only one). Throws listing the
// configs that exist when there is no such config.
const HubConfigInfo& hub_pick_config(const HubDatasetInfo& info, const std::string& config);

// Downloads (or finds in the cache) the data files of one config/split and returns their
// local paths (inside snapshots/{commit}/). config may be empty: the default config, or
// the only one. Throws listing the configs / splits that exist when one is not found.
std::vector<std::string> hub_resolve_files(const std::string& repo, const std::string& config,
                                           const std::string& split,
                                           const std::string& revision = "",
                                           const HubSettings& settings = HubSettings::from_env());

// Downloads (or finds in the cache) one file of a repo; returns its local path.
std::string hub_download_file(const std::string& repo, const std::string& path,
                              const std::string& revision = "",
                              const HubSettings& settings = HubSettings::from_env());

// The same for a model repo ({endpoint}/{repo}/resolve/..., cached under models--{org}--{name}),
// e.g. a tokenizer_config.json. Errors name the model repo.
std::string hub_download_model_file(const std::string& repo, const std::string& path,
                                    const std::string& revision = "",
                                    const HubSettings& settings = HubSettings::from_env());

// Within one process a branch or tag resolves to a commit once (so all tasks of a run read
// the same data); this forgets those resolutions, for tests and long-lived processes.
void hub_forget_resolved_revisions();

}  // namespace retort
