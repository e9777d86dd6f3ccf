#include "cache/cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <thread>

#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;

TEST(ResponseCache, MissingKeyIsEmptyAndPutIsReadBack) {
  TempDir dir;
  ResponseCache cache(dir.file("c.sqlite"));
  EXPECT_FALSE(cache.get("k1").has_value());
  cache.put("k1", R"({"text":"hello"})");
  ASSERT_TRUE(cache.get("k1").has_value());
  EXPECT_EQ(*cache.get("k1"), R"({"text":"hello"})");
}

TEST(ResponseCache, SurvivesReopenAndCreatesDirectories) {
  TempDir dir;
  std::string path = dir.file("a/b/c.sqlite");
  {
    ResponseCache cache(path);
    cache.put_many({{"x", "1"}, {"y", "2"}});
  }
  ResponseCache again(path);
  EXPECT_EQ(again.stats().entries, 2);
  EXPECT_EQ(*again.get("y"), "2");
}

TEST(ResponseCache, SeveralWritersShareOneFile) {
  TempDir dir;
  std::string path = dir.file("shared.sqlite");
  ResponseCache init(path);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      ResponseCache mine(path);  // its own connection, like another process
      for (int i = 0; i < 200; ++i) {
        mine.put("w" + std::to_string(w) + "-" + std::to_string(i), "v");
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(init.stats().entries, 800);
}

TEST(ResponseCache, ClearRemovesEverything) {
  TempDir dir;
  ResponseCache cache(dir.file("c.sqlite"));
  cache.put_many({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  EXPECT_EQ(cache.clear(), 3);
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_FALSE(cache.get("a").has_value());
}

TEST(ResponseCache, DefaultPathFollowsXdgCacheHome) {
  const char* old = getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(ResponseCache::default_path(), "/tmp/xdg-test/retort/cache.sqlite");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_NE(ResponseCache::default_path().find("/.cache/retort/cache.sqlite"), std::string::npos);
  if (old) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

TEST(ResponseCache, UnopenablePathIsAClearError) {
  TempDir dir;
  testing::write_text(dir.file("file"), "x");
  try {
    ResponseCache cache(dir.file("file/sub/c.sqlite"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cannot open the response cache"), std::string::npos);
    EXPECT_NE(e.message().find("file/sub/c.sqlite"), std::string::npos);
  }
}

}  // namespace
}  // namespace retort
