// The durable response store: a SQLite file in WAL mode mapping a request key (hex SHA-256
// of the canonical request, computed by the caller) to the response as JSON text. A put is
// committed when it returns, so a process killed right after loses nothing it was told
// about. Several processes may share one file (WAL + busy timeout). Only successful
// responses are meant to be stored; the cache itself does not judge.
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
  // Stores all pairs in one transaction, committed before returning. Throws retort::Error
  // when the write fails (disk full, read-only file).
  void put_many(const std::vector<std::pair<std::string, std::string>>& entries);
  void put(const std::string& key, const std::string& value) { put_many({{key, value}}); }

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
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

}  // namespace retort
