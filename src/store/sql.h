// The little SQL surface the results store needs, implemented for SQLite and PostgreSQL
// (libpq). Statements are written once in the dialect both accept; parameters are $1, $2, ...
// and travel as text (nullopt = NULL), so both engines convert them to the column's type.
// Bulk rows go through a RowSink with typed values (SQLite: one prepared INSERT with bound
// parameters; PostgreSQL: COPY ... FROM STDIN), so a run's samples are written without SQL
// text or a row of strings per sample. Binary columns (SQLite BLOB, PostgreSQL BYTEA) are
// written with blob() and read back through the engine's hex expression (hex_of()), since
// query() returns text. Internal to store/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retort::store {

using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

// Rows appended to one table inside the caller's transaction. Each row gives one value per
// column, in the columns' order, then end_row(); finish() once after the last row (a sink
// dropped without finish() abandons what it had not written yet). Text passed to text() must
// stay valid until that row's end_row().
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void text(std::string_view v) = 0;
  // Bytes for a BLOB/BYTEA column (stay valid until end_row(), like text()).
  virtual void blob(std::string_view bytes) = 0;
  virtual void integer(int64_t v) = 0;
  // Non-finite values are stored as text ("nan", "inf"), as the store has always written them.
  virtual void real(double v) = 0;
  virtual void null() = 0;
  virtual void end_row() = 0;
  virtual void finish() = 0;

  void real(const std::optional<double>& v) { v ? real(*v) : null(); }
};

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  // Runs one or more statements without parameters.
  virtual void exec(const std::string& sql) = 0;
  // Runs one statement with text parameters; returns every row as text (NULL = nullopt).
  virtual std::vector<SqlRow> query(const std::string& sql,
                                    const std::vector<SqlValue>& params) = 0;
  // Starts appending rows to a table (inside the caller's transaction). One sink at a time.
  virtual std::unique_ptr<RowSink> insert(const std::string& table,
                                          const std::vector<std::string>& columns) = 0;
  // Like insert(), but a row whose primary key is already in the table is skipped. It may be
  // open beside one insert() sink; its rows may only reach the table in finish(), so finish
  // that other sink first.
  virtual std::unique_ptr<RowSink> insert_new(const std::string& table,
                                              const std::vector<std::string>& columns) = 0;
  // An SQL expression giving a BLOB/BYTEA value as hex text (SQLite: upper case).
  virtual std::string hex_of(const std::string& expr) const = 0;
  // "sqlite" or "postgresql".
  virtual const char* engine() const = 0;
  // The database as the user named it, without passwords (for messages).
  virtual const std::string& where() const = 0;
};

// Opens (creating the file and its directory) a SQLite database. Throws retort::Error.
std::unique_ptr<SqlDb> open_sqlite(const std::string& path);
// Connects to PostgreSQL with a libpq URI or conninfo string. Throws retort::Error naming
// the server (password removed) and what to do.
std::unique_ptr<SqlDb> open_postgres(const std::string& conninfo);

// A libpq URI with its password replaced by "***".
std::string redact_db_url(const std::string& url);

}  // namespace retort::store
