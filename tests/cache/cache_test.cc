#include "cache/cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
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

// Makes every insert of key `bad` (or every insert, with "") fail as a full disk would.
void fail_inserts(const std::string& path, const std::string& key) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string when = key.empty() ? "" : " WHEN NEW.key = '" + key + "'";
  std::string sql = "CREATE TRIGGER full BEFORE INSERT ON responses" + when +
                    " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

TEST(ResponseCache, WalIsCheckedNotAssumed) {
  TempDir dir;
  ::testing::internal::CaptureStderr();
  {
    ResponseCache cache(dir.file("c.sqlite"));
    EXPECT_EQ(cache.journal_mode(), "wal");
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // An in-memory database cannot be in WAL mode: SQLite says "memory", and so do we.
  ::testing::internal::CaptureStderr();
  ResponseCache memory(":memory:");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(memory.journal_mode(), "memory");
  EXPECT_NE(err.find("journal mode 'memory', not WAL"), std::string::npos) << err;
  memory.put("k", "v");
  EXPECT_EQ(*memory.get("k"), "v");
}

TEST(ResponseCache, AFailedWriteIsRolledBackWholeAndTheCacheStaysUsable) {
  TempDir dir;
  std::string path = dir.file("c.sqlite");
  ResponseCache cache(path);
  fail_inserts(path, "bad");
  try {
    cache.put_many({{"good", "1"}, {"bad", "2"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("database or disk is full"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
  }
  EXPECT_FALSE(cache.get("good").has_value());      // nothing half-written
  cache.put_many({{"good", "1"}, {"other", "3"}});  // no transaction left open
  EXPECT_EQ(cache.stats().entries, 2);
  ResponseCache other(path);  // and no lock left held
  other.put("third", "4");
  EXPECT_EQ(*cache.get("third"), "4");
}

// Turns foreign keys on in every connection opened while it is registered (SQLite has them
// off by default), so a deferred foreign key can make a COMMIT fail.
int foreign_keys_on(sqlite3* db, const char**, const void*) {
  return sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr);
}

TEST(ResponseCache, AFailedCommitIsRolledBack) {
  TempDir dir;
  std::string path = dir.file("c.sqlite");
  {
    // The cache's table, with a deferred foreign key: an insert of a value that no parent row
    // has goes through, and the COMMIT fails (leaving the transaction open, as a COMMIT that
    // fails with SQLITE_BUSY or an I/O error may).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE parent (id TEXT PRIMARY KEY); INSERT INTO parent VALUES "
                           "('ok'); CREATE TABLE responses (key TEXT PRIMARY KEY, value TEXT NOT "
                           "NULL REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED, created REAL "
                           "NOT NULL DEFAULT (julianday('now'))) WITHOUT ROWID",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto hook = reinterpret_cast<void (*)()>(&foreign_keys_on);
  sqlite3_auto_extension(hook);
  {
    ResponseCache cache(path);
    try {
      cache.put_many({{"a", "ok"}, {"b", "orphan"}});
      ADD_FAILURE() << "expected the COMMIT to fail";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("cannot commit"), std::string::npos) << e.message();
    }
    EXPECT_FALSE(cache.get("a").has_value());  // rolled back whole
    cache.put("c", "ok");                      // and the connection is usable again
    EXPECT_EQ(*ResponseCache(path).get("c"), "ok");
  }
  sqlite3_cancel_auto_extension(hook);
}

TEST(ResponseCache, StoreDegradesToNotCachedWithOneWarning) {
  TempDir dir;
  std::string path = dir.file("c.sqlite");
  ResponseCache cache(path);
  cache.put("kept", "1");
  fail_inserts(path, "");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(cache.store({{"a", "1"}, {"b", "2"}}));
  EXPECT_FALSE(cache.store({{"c", "3"}}));
  EXPECT_TRUE(cache.store({}));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(err, "warning:"), 1u) << err;
  EXPECT_NE(err.find("database or disk is full"), std::string::npos) << err;
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_EQ(cache.unstored(), 3);
  EXPECT_EQ(*cache.get("kept"), "1");  // reads go on
  EXPECT_FALSE(cache.get("a").has_value());
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
