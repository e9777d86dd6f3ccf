// The XDG Base Directory lookups every user folder of retort goes through.
#include "util/user_folders.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace retort {
namespace {

// Sets (or, with nullopt, unsets) a variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(UserFolders, AnAbsoluteXdgVariableWins) {
  ScopedEnv home("HOME", "/home/someone");
  ScopedEnv cache("XDG_CACHE_HOME", "/xdg/cache");
  ScopedEnv data("XDG_DATA_HOME", "/xdg/data");
  EXPECT_EQ(user_cache_home(), "/xdg/cache");
  EXPECT_EQ(user_data_home(), "/xdg/data");
  EXPECT_EQ(user_cache_folder(), "/xdg/cache/retort");
  EXPECT_EQ(user_data_folder(), "/xdg/data/retort");
}

TEST(UserFolders, WithoutXdgVariablesTheyAreUnderHome) {
  ScopedEnv home("HOME", "/home/someone");
  ScopedEnv cache("XDG_CACHE_HOME", std::nullopt);
  ScopedEnv data("XDG_DATA_HOME", std::nullopt);
  EXPECT_EQ(user_cache_folder(), "/home/someone/.cache/retort");
  EXPECT_EQ(user_data_folder(), "/home/someone/.local/share/retort");
}

// The spec: "If an implementation encounters a relative path in any of these variables it
// should consider the path invalid and ignore it." An empty one is as good as unset.
TEST(UserFolders, AnEmptyOrRelativeXdgVariableIsIgnored) {
  ScopedEnv home("HOME", "/home/someone");
  for (const char* bad : {"", "relative/cache", "./x", "~/cache"}) {
    ScopedEnv cache("XDG_CACHE_HOME", bad);
    ScopedEnv data("XDG_DATA_HOME", bad);
    EXPECT_EQ(user_cache_home(), "/home/someone/.cache") << "'" << bad << "'";
    EXPECT_EQ(user_data_home(), "/home/someone/.local/share") << "'" << bad << "'";
  }
}

TEST(UserFolders, NoHomeAndNoXdgIsNoFolder) {
  ScopedEnv cache("XDG_CACHE_HOME", std::nullopt);
  ScopedEnv data("XDG_DATA_HOME", std::nullopt);
  for (std::optional<std::string> home :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    ScopedEnv h("HOME", home);
    EXPECT_EQ(user_cache_folder(), "");
    EXPECT_EQ(user_data_folder(), "");
  }
  ScopedEnv h("HOME", std::nullopt);
  ScopedEnv c("XDG_CACHE_HOME", "/xdg/cache");
  EXPECT_EQ(user_cache_folder(), "/xdg/cache/retort");
}

}  // namespace
}  // namespace retort
