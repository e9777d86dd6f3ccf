#include <gtest/gtest.h>

#include "support/test_support.h"

namespace retort::testing {
namespace {

TEST(Cli, HelpListsCommands) {
  auto r = run_retort({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("run"), std::string::npos);
  EXPECT_NE(r.out.find("sim"), std::string::npos);
}

TEST(Cli, UnknownCommandIsOneClearError) {
  auto r = run_retort({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
}

}  // namespace
}  // namespace retort::testing
