#include "util/sqlite.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace {

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};

// The first column of the first row of sql's result ("" when none).
std::string first_text(sqlite3* db, const std::string& sql, const std::string& path,
                       const SqliteOpen& how) {
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (out.empty()) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        out = p ? p : "";
      }
    }
  }
  std::string why = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw Error(how.what + ": " + why, path, how.hint);
  return out;
}

}  // namespace

OpenedSqlite open_sqlite_file(const std::string& path, const SqliteOpen& how) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, Closer> db(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    throw Error("cannot open the " + how.what + " (" + msg + ")", path, how.open_hint);
  }
  // Another process writing the file holds its lock for a moment: wait up to 30 s for it
  // instead of failing with "database is locked".
  sqlite3_busy_timeout(raw, 30000);
  OpenedSqlite out;
  out.read_only = sqlite3_db_readonly(raw, "main") == 1;
  for (const auto& pragma : how.pragmas) first_text(raw, pragma, path, how);
  // A read-only file cannot be switched to WAL (that writes its header): read its mode.
  out.journal_mode = to_lower(first_text(
      raw, out.read_only ? "PRAGMA journal_mode" : "PRAGMA journal_mode=WAL", path, how));
  if (out.journal_mode != "wal") {
    log::warn(
        "the {} {} is in journal mode '{}', not WAL (SQLite could not enable it there): it "
        "works, but retort processes sharing it wait for each other; {}",
        how.what, path, out.journal_mode, how.wal_hint);
  }
  out.db = db.release();
  return out;
}

}  // namespace retort
