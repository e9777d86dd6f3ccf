// SqlDb over SQLite: WAL, a busy timeout so several retort processes can share the file,
// and $N parameters rewritten to SQLite's ?N.
#include <sqlite3.h>

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "store/sql.h"
#include "util/error.h"
#include "util/sqlite.h"

namespace retort::store {

namespace {

std::string to_sqlite_params(const std::string& sql) {
  std::string out = sql;
  for (size_t i = 0; i + 1 < out.size(); ++i)
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  return out;
}

class SqliteDb : public SqlDb {
 public:
  explicit SqliteDb(const std::string& path) : path_(path) {
    SqliteOpen how;
    how.what = "results database";
    how.open_hint = "pass --db PATH to use another file, or --no-db to record nothing";
    how.hint = "check the file and its permissions, or pass --db PATH";
    how.wal_hint = "put it on a local disk with --db PATH";
    // A new database gets 16 KiB pages (a run is written as many rows at once: fewer pages
    // to split and write than with the 4 KiB default); an existing one keeps its own. The
    // page cache may grow to 64 MiB so that a whole run's transaction is built in memory
    // instead of spilling pages to the WAL and writing them again. open_sqlite_file then
    // puts the file in WAL mode (checked) with a busy timeout.
    how.pragmas = {"PRAGMA page_size=16384", "PRAGMA synchronous=NORMAL",
                   "PRAGMA cache_size=-65536"};
    db_ = open_sqlite_file(path, how).db;
  }
  ~SqliteDb() override { sqlite3_close(db_); }

  void exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw Error("results database: " + msg, path_,
                  "check the file and its permissions, or pass --db PATH");
    }
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* st = prepare(to_sqlite_params(sql));
    std::vector<SqlRow> rows;
    for (size_t i = 0; i < params.size(); ++i) bind(st, static_cast<int>(i + 1), params[i]);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      int n = sqlite3_column_count(st);
      SqlRow row(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL) continue;
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        row[static_cast<size_t>(c)] =
            std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c)));
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) fail(st);
    sqlite3_finalize(st);
    return rows;
  }

  std::unique_ptr<RowSink> insert(const std::string& table,
                                  const std::vector<std::string>& columns) override {
    return std::make_unique<Sink>(*this, prepare(insert_sql(table, columns)));
  }
  std::unique_ptr<RowSink> insert_new(const std::string& table,
                                      const std::vector<std::string>& columns) override {
    return std::make_unique<Sink>(*this,
                                  prepare(insert_sql(table, columns) + " ON CONFLICT DO NOTHING"));
  }
  std::string hex_of(const std::string& expr) const override { return "hex(" + expr + ")"; }

  const char* engine() const override { return "sqlite"; }
  const std::string& where() const override { return path_; }

 private:
  static std::string insert_sql(const std::string& table, const std::vector<std::string>& columns) {
    std::string sql = "INSERT INTO " + table + " (";
    std::string values;
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i];
      values += (i ? ", ?" : "?") + std::to_string(i + 1);
    }
    return sql + ") VALUES (" + values + ")";
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) !=
        SQLITE_OK)
      fail(st);
    return st;
  }
  static void bind(sqlite3_stmt* st, int i, const SqlValue& v) {
    if (v)
      sqlite3_bind_text(st, i, v->data(), static_cast<int>(v->size()), SQLITE_STATIC);
    else
      sqlite3_bind_null(st, i);
  }
  [[noreturn]] void fail(sqlite3_stmt* st) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    throw Error("results database: " + msg, path_,
                "check the file and its permissions, or pass --db PATH");
  }

  // One prepared INSERT, reset and rebound for every row; values bound with their types
  // (no text to convert per column), text without a copy.
  class Sink : public RowSink {
   public:
    Sink(SqliteDb& db, sqlite3_stmt* st) : db_(db), st_(st) {}
    ~Sink() override { sqlite3_finalize(st_); }
    void text(std::string_view v) override {
      sqlite3_bind_text(st_, ++col_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void blob(std::string_view v) override {
      sqlite3_bind_blob(st_, ++col_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void integer(int64_t v) override { sqlite3_bind_int64(st_, ++col_, v); }
    void real(double v) override {
      if (std::isfinite(v)) {
        sqlite3_bind_double(st_, ++col_, v);
      } else {  // SQLite would store NaN as NULL
        std::string t = fmt::format("{}", v);
        sqlite3_bind_text(st_, ++col_, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
      }
    }
    void null() override { sqlite3_bind_null(st_, ++col_); }
    void end_row() override {
      if (sqlite3_step(st_) != SQLITE_DONE) {
        sqlite3_stmt* st = st_;
        st_ = nullptr;
        db_.fail(st);
      }
      sqlite3_reset(st_);
      col_ = 0;
    }
    void finish() override {}

   private:
    SqliteDb& db_;
    sqlite3_stmt* st_;
    int col_ = 0;
  };

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlDb> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteDb>(path);
}

}  // namespace retort::store
