// The durable response store: a SQLite file in WAL mode mapping a request key (hex SHA-256
// of the canonical request, computed by the caller) to the response as JSON text (what the
// text holds is the caller's: providers keep the server's raw reply in it, so a fixed
// parser reads old answers anew). A put is committed when it returns, so a process killed
// right after loses nothing it was told about. Several processes may share one file (WAL +
// busy timeout); when SQLite cannot put the file in WAL mode (a file system without shared
// memory) one warning says so and the cache works with a rollback journal. A file that
// cannot be written (read-only, disk full) still answers reads; store() then degrades to
// "not cached" with one warning. Only successful responses are meant to be stored; the
// cache itself does not judge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace retort {

class ResponseCache {
 public:
  // $XDG_CACHE_HOME/retort/cache.sqlite, else $HOME/.cache/retort/cache.sqlite.
  static std::string default_path();

  // Opens (creating the file and its directory when needed). Throws retort::Error naming
  // the path when it cannot.
  explicit ResponseCache(const std::string& path);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  const std::string& path() const { return path_; }

  std::optional<std::string> get(const std::string& key);
  // Stores all pairs in one transaction, committed before returning; a failed write or
  // COMMIT is rolled back whole. Throws retort::Error when the write fails (disk full,
  // read-only file).
  void put_many(const std::vector<std::pair<std::string, std::string>>& entries);
  void put(const std::string& key, const std::string& value) { put_many({{key, value}}); }
  // put_many for a run that has the answers in hand: a failure never throws. The first one
  // logs one warning (the file, SQLite's reason, what to do) and turns writing off for the
  // rest of this cache's life; reads go on. Returns whether the entries were stored.
  bool store(const std::vector<std::pair<std::string, std::string>>& entries) noexcept;
  // Entries store() could not keep (a rerun asks them again).
  int64_t unstored() const { return unstored_; }

  // The journal mode SQLite reports after asking for WAL ("wal", or "delete", "memory", ...
  // when it could not), and whether the file was opened read-only.
  const std::string& journal_mode() const { return journal_mode_; }
  bool read_only() const { return read_only_; }

  struct Stats {
    int64_t entries = 0;
    int64_t value_bytes = 0;
    int64_t file_bytes = 0;  // database + WAL files
  };
  Stats stats();
  // Deletes every entry; returns how many there were.
  int64_t clear();

 private:
  void exec(const char* sql);
  [[noreturn]] void fail(const std::string& what, const std::string& reason);

  void rollback_if_open() noexcept;

  std::string path_;
  std::string journal_mode_;
  bool read_only_ = false;
  bool writes_off_ = false;  // after store() failed once
  int64_t unstored_ = 0;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

}  // namespace retort
