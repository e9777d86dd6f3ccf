// SqlDb over PostgreSQL (libpq): text parameters through PQexecParams, bulk rows through
// COPY ... FROM STDIN in text format (backslash, tab, newline and carriage return escaped;
// NULL is \N).
#include <libpq-fe.h>

#include <fmt/format.h>

#include <iterator>
#include <regex>

#include "store/sql.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort::store {

namespace {

class PostgresDb : public SqlDb {
 public:
  explicit PostgresDb(const std::string& conninfo) : where_(redact_db_url(conninfo)) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      PQfinish(conn_);
      conn_ = nullptr;
      throw Error("cannot connect to the results database (" + msg + ")", where_,
                  "check that the PostgreSQL server runs and the URL (postgresql://user@host:"
                  "port/dbname) is right; a password can come from ~/.pgpass or PGPASSWORD");
    }
    PQsetClientEncoding(conn_, "UTF8");
    exec("SET client_min_messages = warning");
  }
  ~PostgresDb() override { PQfinish(conn_); }

  void exec(const std::string& sql) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    PQclear(r);
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    check(r, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    std::vector<SqlRow> rows;
    int n = PQntuples(r), cols = PQnfields(r);
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      SqlRow row(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c)
        if (!PQgetisnull(r, i, c))
          row[static_cast<size_t>(c)] =
              std::string(PQgetvalue(r, i, c), static_cast<size_t>(PQgetlength(r, i, c)));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }

  std::unique_ptr<RowSink> insert(const std::string& table,
                                  const std::vector<std::string>& columns) override {
    std::string sql = "COPY " + table + " (";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
    sql += ") FROM STDIN";
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, PGRES_COPY_IN, PGRES_COPY_IN);
    PQclear(r);
    return std::make_unique<Sink>(*this);
  }
  // COPY cannot skip conflicting rows, and only one COPY runs at a time: the rows are kept as
  // COPY text until finish(), then copied into a temporary table and moved over with INSERT ...
  // ON CONFLICT DO NOTHING (which also skips repeats among the rows themselves).
  std::unique_ptr<RowSink> insert_new(const std::string& table,
                                      const std::vector<std::string>& columns) override {
    std::string cols;
    for (size_t i = 0; i < columns.size(); ++i) cols += (i ? ", " : "") + columns[i];
    auto sink = std::make_unique<Sink>(*this);
    sink->defer(table, cols);
    return sink;
  }
  std::string hex_of(const std::string& expr) const override {
    return "encode(" + expr + ", 'hex')";
  }

  const char* engine() const override { return "postgresql"; }
  const std::string& where() const override { return where_; }

 private:
  void check(PGresult* r, ExecStatusType ok1, ExecStatusType ok2) {
    ExecStatusType s = PQresultStatus(r);
    if (s == ok1 || s == ok2) return;
    std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    PQclear(r);
    fail(msg);
  }
  [[noreturn]] void fail(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw Error("results database: " + msg, where_,
                "check the server's log and the user's rights on the database");
  }

  // Rows as COPY text lines, sent in pieces of about 1 MiB (or kept until finish(): defer()).
  class Sink : public RowSink {
   public:
    explicit Sink(PostgresDb& db) : db_(db) {}
    ~Sink() override {
      if (!done_ && table_.empty()) PQputCopyEnd(db_.conn_, "abandoned");
    }
    // Keep the rows until finish() (see insert_new).
    void defer(const std::string& table, const std::string& columns) {
      table_ = table;
      columns_ = columns;
    }
    void text(std::string_view v) override {
      sep();
      append_tsv_escaped(buf_, v);
    }
    void blob(std::string_view v) override {
      sep();
      static const char kHex[] = "0123456789abcdef";
      buf_ += "\\\\x";  // bytea's hex input form, its backslash escaped for COPY
      for (unsigned char c : v) {
        buf_ += kHex[c >> 4];
        buf_ += kHex[c & 15];
      }
    }
    void integer(int64_t v) override {
      sep();
      fmt::format_to(std::back_inserter(buf_), "{}", v);
    }
    void real(double v) override {
      sep();
      fmt::format_to(std::back_inserter(buf_), "{}", v);
    }
    void null() override {
      sep();
      buf_ += "\\N";
    }
    void end_row() override {
      buf_ += '\n';
      first_ = true;
      if (table_.empty() && buf_.size() > (1 << 20)) flush();
    }
    void finish() override {
      done_ = true;
      if (table_.empty()) {
        end_copy();
        return;
      }
      if (buf_.empty()) return;
      db_.exec("CREATE TEMP TABLE retort_new_rows (LIKE " + table_ + ") ON COMMIT DROP");
      PGresult* r =
          PQexec(db_.conn_, ("COPY retort_new_rows (" + columns_ + ") FROM STDIN").c_str());
      db_.check(r, PGRES_COPY_IN, PGRES_COPY_IN);
      PQclear(r);
      end_copy();
      db_.exec("INSERT INTO " + table_ + " (" + columns_ + ") SELECT " + columns_ +
               " FROM retort_new_rows ON CONFLICT DO NOTHING");
      db_.exec("DROP TABLE retort_new_rows");
    }

   private:
    // Sends what is left of the rows and ends the COPY in progress.
    void end_copy() {
      if (!buf_.empty()) flush();
      if (PQputCopyEnd(db_.conn_, nullptr) != 1) db_.fail(PQerrorMessage(db_.conn_));
      PGresult* r = PQgetResult(db_.conn_);
      db_.check(r, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
      PQclear(r);
      while ((r = PQgetResult(db_.conn_)) != nullptr) PQclear(r);
    }
    void sep() {
      if (!first_) buf_ += '\t';
      first_ = false;
    }
    void flush() {
      if (PQputCopyData(db_.conn_, buf_.data(), static_cast<int>(buf_.size())) != 1) {
        done_ = true;
        PQputCopyEnd(db_.conn_, "write failed");
        db_.fail(PQerrorMessage(db_.conn_));
      }
      buf_.clear();
    }

    PostgresDb& db_;
    std::string table_, columns_;  // table_: set when the rows are kept until finish()
    std::string buf_;
    bool first_ = true, done_ = false;
  };

  std::string where_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::string redact_db_url(const std::string& url) {
  // postgresql://user:secret@host -> postgresql://user:***@host; password=... in conninfo.
  static const std::regex uri_pw(R"(^(postgres(?:ql)?://[^:/@]*):[^@/]*@)");
  static const std::regex kv_pw(R"((password\s*=\s*)('[^']*'|[^\s&]+))");
  std::string out = std::regex_replace(url, uri_pw, "$1:***@");
  return std::regex_replace(out, kv_pw, "$1***");
}

std::unique_ptr<SqlDb> open_postgres(const std::string& conninfo) {
  return std::make_unique<PostgresDb>(conninfo);
}

}  // namespace retort::store
