// The little SQL surface the results store needs, implemented for SQLite and PostgreSQL
// (libpq). Statements are written once in the dialect both accept; parameters are $1, $2, ...
// and travel as text (nullopt = NULL), so both engines convert them to the column's type.
// Internal to store/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace retort::store {

using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  // Runs one or more statements without parameters.
  virtual void exec(const std::string& sql) = 0;
  // Runs one statement with text parameters; returns every row as text (NULL = nullopt).
  virtual std::vector<SqlRow> query(const std::string& sql,
                                    const std::vector<SqlValue>& params) = 0;
  // Appends rows to a table (inside the caller's transaction): SQLite through one prepared
  // INSERT, PostgreSQL through COPY ... FROM STDIN.
  virtual void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<SqlRow>& rows) = 0;
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
