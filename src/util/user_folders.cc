#include "util/user_folders.h"

#include <cstdlib>

namespace retort {

namespace {

std::string base_folder(const char* xdg_var, const char* under_home) {
  const char* xdg = std::getenv(xdg_var);
  if (xdg && xdg[0] == '/') return xdg;  // empty or relative: ignored, as the spec says
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";
  return std::string(home) + under_home;
}

std::string in(const std::string& base) {
  return base.empty() ? "" : base + "/retort";
}

}  // namespace

std::string user_cache_home() {
  return base_folder("XDG_CACHE_HOME", "/.cache");
}
std::string user_data_home() {
  return base_folder("XDG_DATA_HOME", "/.local/share");
}
std::string user_cache_folder() {
  return in(user_cache_home());
}
std::string user_data_folder() {
  return in(user_data_home());
}

}  // namespace retort
