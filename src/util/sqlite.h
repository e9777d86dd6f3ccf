// Opening a SQLite file the way every retort database is opened (the response cache, the
// results database): read-write and created when missing (with its folder), falling back
// to read-only where the file cannot be written, a busy timeout so several retort processes
// can share the file, the caller's pragmas, then WAL asked for and checked: SQLite answers
// with the journal mode it is really in, which is not WAL where WAL cannot work (no shared
// memory on the file system, an in-memory database), and one warning says so.
#pragma once

#include <string>
#include <vector>

struct sqlite3;

namespace retort {

struct SqliteOpen {
  // What the file is to the user ("response cache"): "cannot open the <what> (...)",
  // "<what>: <SQLite's reason>", "the <what> <path> is in journal mode ...".
  std::string what;
  // What to do when the file cannot be opened, when a pragma fails, and when WAL could not
  // be enabled (e.g. "put it on a local disk with --cache PATH").
  std::string open_hint, hint, wal_hint;
  // Run in order before WAL is asked for (a page_size must be set before WAL fixes it),
  // on a read-only file too.
  std::vector<std::string> pragmas;
};

struct OpenedSqlite {
  sqlite3* db = nullptr;     // the caller's, to sqlite3_close
  bool read_only = false;    // the file could be opened only for reading
  std::string journal_mode;  // lower case: "wal", or "delete", "memory", ... when not
};

// Opens path as above; throws retort::Error naming path and what to do (the database is
// closed again) when the file cannot be opened or a pragma fails.
OpenedSqlite open_sqlite_file(const std::string& path, const SqliteOpen& how);

}  // namespace retort
