#include "data/hub.h"

#include "util/error.h"

namespace retort {

HubSettings HubSettings::from_env() { return HubSettings{}; }

bool looks_like_hub_repo(const std::string&) { return false; }

HubDatasetInfo hub_dataset_info(const std::string& repo, const std::string&, const HubSettings&) {
  throw Error("Hub access is not implemented yet", repo);
}

std::vector<std::string> hub_resolve_files(const std::string& repo, const std::string&,
                                           const std::string&, const std::string&,
                                           const HubSettings&) {
  throw Error("Hub access is not implemented yet", repo);
}

std::string hub_download_file(const std::string& repo, const std::string&, const std::string&,
                              const HubSettings&) {
  throw Error("Hub access is not implemented yet", repo);
}

}  // namespace retort
