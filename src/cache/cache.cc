#include "cache/cache.h"

#include <sqlite3.h>

#include <filesystem>

#include "util/error.h"
#include "util/log.h"
#include "util/sqlite.h"
#include "util/strings.h"
#include "util/user_folders.h"

namespace retort {

namespace fs = std::filesystem;

std::string ResponseCache::default_path() {
  std::string folder = user_cache_folder();
  return (folder.empty() ? "./.cache/retort" : folder) + "/cache.sqlite";  // no HOME: here
}

ResponseCache::ResponseCache(const std::string& path) : path_(path) {
  SqliteOpen how;
  how.what = "response cache";
  how.open_hint = "pass --cache PATH to use another file, or --no-cache";
  how.hint = "check the file's permissions, or pass --cache PATH / --no-cache";
  how.wal_hint = "put it on a local disk with --cache PATH";
  how.pragmas = {"PRAGMA synchronous=NORMAL"};
  OpenedSqlite opened = open_sqlite_file(path, how);
  db_ = opened.db;
  read_only_ = opened.read_only;
  journal_mode_ = opened.journal_mode;
  try {
    if (!read_only_) {
      exec(
          "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
          "created REAL NOT NULL DEFAULT (julianday('now'))) WITHOUT ROWID");
    } else {
      writes_off_ = true;
      log::warn(
          "the response cache {} is read-only: answers are read from it, new ones are not "
          "stored (a rerun asks them again)",
          path);
    }
    if (sqlite3_prepare_v2(db_, "SELECT value FROM responses WHERE key = ?1", -1, &get_, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO responses (key, value) VALUES (?1, ?2)", -1,
                           &put_, nullptr) != SQLITE_OK) {
      fail("cannot prepare statements", sqlite3_errmsg(db_));
    }
  } catch (...) {
    sqlite3_finalize(get_);
    sqlite3_finalize(put_);
    sqlite3_close(db_);
    throw;
  }
}

ResponseCache::~ResponseCache() {
  sqlite3_finalize(get_);
  sqlite3_finalize(put_);
  sqlite3_close(db_);
}

void ResponseCache::fail(const std::string& what, const std::string& reason) {
  throw Error("response cache: " + what + " (" + reason + ")", path_,
              "check the disk and the file's permissions, or pass --no-cache");
}

void ResponseCache::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw Error("response cache: " + msg, path_,
                "check the file's permissions, or pass --cache PATH / --no-cache");
  }
}

void ResponseCache::rollback_if_open() noexcept {
  if (db_ && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

std::optional<std::string> ResponseCache::get(const std::string& key) {
  sqlite3_reset(get_);
  sqlite3_bind_text(get_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  int rc = sqlite3_step(get_);
  std::optional<std::string> out;
  if (rc == SQLITE_ROW) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(get_, 0));
    out = std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(get_, 0)));
  }
  sqlite3_reset(get_);
  return out;
}

void ResponseCache::put_many(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  exec("BEGIN IMMEDIATE");
  for (const auto& [k, v] : entries) {
    sqlite3_reset(put_);
    sqlite3_bind_text(put_, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
    sqlite3_bind_text(put_, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    if (sqlite3_step(put_) != SQLITE_DONE) {
      std::string why = sqlite3_errmsg(db_);
      sqlite3_reset(put_);
      rollback_if_open();
      fail("cannot store a response", why);
    }
  }
  sqlite3_reset(put_);
  // A COMMIT that fails (busy, I/O error, disk full) may leave the transaction open, and
  // every later BEGIN would then fail too: roll it back so the connection stays usable.
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_);
    rollback_if_open();
    fail("cannot commit stored responses", why);
  }
}

bool ResponseCache::store(
    const std::vector<std::pair<std::string, std::string>>& entries) noexcept {
  if (entries.empty()) return true;
  if (!writes_off_) {
    try {
      put_many(entries);
      return true;
    } catch (const std::exception& e) {
      writes_off_ = true;
      const auto* err = dynamic_cast<const Error*>(&e);
      std::string why = err ? err->what_failed() : std::string(e.what());
      if (starts_with(why, "response cache: ")) why.erase(0, 16);
      log::warn(
          "cannot store answers in the response cache {} ({}): this run goes on without "
          "caching, and a rerun asks these requests again; free disk space or fix the file's "
          "permissions, or pass --cache PATH / --no-cache",
          path_, why);
    }
  }
  unstored_ += static_cast<int64_t>(entries.size());
  return false;
}

ResponseCache::Stats ResponseCache::stats() {
  Stats s;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM responses", -1,
                         &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    s.entries = sqlite3_column_int64(st, 0);
    s.value_bytes = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto n = fs::file_size(path_ + suffix, ec);
    if (!ec) s.file_bytes += static_cast<int64_t>(n);
  }
  return s;
}

int64_t ResponseCache::clear() {
  int64_t n = stats().entries;
  exec("DELETE FROM responses");
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  exec("VACUUM");
  return n;
}

}  // namespace retort
