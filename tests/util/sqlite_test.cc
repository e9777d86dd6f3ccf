// open_sqlite_file: the one way the response cache and the results database open SQLite.
#include "util/sqlite.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using retort::testing::TempDir;

SqliteOpen test_how() {
  SqliteOpen how;
  how.what = "test database";
  how.open_hint = "pass --test-db PATH";
  how.hint = "check the test file";
  how.wal_hint = "put it on a local disk with --test-db PATH";
  return how;
}

std::string pragma_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    out = p ? p : "";
  }
  sqlite3_finalize(st);
  return out;
}

TEST(OpenSqliteFile, CreatesTheFileAndFolderRunsThePragmasAndEnablesWal) {
  TempDir dir;
  std::string path = dir.file("a/b/x.sqlite");
  SqliteOpen how = test_how();
  how.pragmas = {"PRAGMA page_size=16384", "PRAGMA cache_size=-2048"};
  ::testing::internal::CaptureStderr();
  OpenedSqlite db = open_sqlite_file(path, how);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_NE(db.db, nullptr);
  EXPECT_FALSE(db.read_only);
  EXPECT_EQ(db.journal_mode, "wal");
  EXPECT_EQ(pragma_text(db.db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma_text(db.db, "PRAGMA cache_size"), "-2048");
  // page_size ran before WAL was enabled, so the new file really has 16 KiB pages.
  ASSERT_EQ(sqlite3_exec(db.db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(pragma_text(db.db, "PRAGMA page_size"), "16384");
  sqlite3_close(db.db);
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
}

TEST(OpenSqliteFile, AFileThatCannotBeOpenedIsOneErrorNamingItAndWhatToDo) {
  TempDir dir;
  std::string path = dir.file("plain");
  ASSERT_EQ(std::system(("touch '" + path + "'").c_str()), 0);
  try {
    open_sqlite_file(path + "/sub/x.sqlite", test_how());
    ADD_FAILURE() << "opened a file under a plain file";
  } catch (const Error& e) {
    EXPECT_NE(e.what_failed().find("cannot open the test database ("), std::string::npos)
        << e.message();
    EXPECT_EQ(e.where(), path + "/sub/x.sqlite");
    EXPECT_EQ(e.hint(), "pass --test-db PATH");
  }
}

TEST(OpenSqliteFile, AFailingPragmaIsOneErrorWithTheCallersHint) {
  TempDir dir;
  SqliteOpen how = test_how();
  how.pragmas = {"PRAGMA nonsense_that_is_fine", "SELECT * FROM no_such_table"};
  try {
    open_sqlite_file(dir.file("x.sqlite"), how);
    ADD_FAILURE() << "a failing pragma was ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "test database: no such table: no_such_table");
    EXPECT_EQ(e.where(), dir.file("x.sqlite"));
    EXPECT_EQ(e.hint(), "check the test file");
  }
}

TEST(OpenSqliteFile, WalIsCheckedNotAssumed) {
  ::testing::internal::CaptureStderr();
  OpenedSqlite db = open_sqlite_file(":memory:", test_how());
  std::string err = ::testing::internal::GetCapturedStderr();
  sqlite3_close(db.db);
  EXPECT_EQ(db.journal_mode, "memory");
  EXPECT_NE(err.find("the test database :memory: is in journal mode 'memory', not WAL"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("put it on a local disk with --test-db PATH"), std::string::npos) << err;
}

TEST(OpenSqliteFile, AReadOnlyFileOpensForReading) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  TempDir dir;
  std::string path = dir.file("ro.sqlite");
  sqlite3_close(open_sqlite_file(path, test_how()).db);  // now a WAL file
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ::testing::internal::CaptureStderr();
  OpenedSqlite db = open_sqlite_file(path, test_how());
  std::string err = ::testing::internal::GetCapturedStderr();
  sqlite3_close(db.db);
  EXPECT_TRUE(db.read_only);
  EXPECT_EQ(db.journal_mode, "delete");
  EXPECT_NE(err.find("journal mode 'delete', not WAL"), std::string::npos) << err;
}

}  // namespace
}  // namespace retort
