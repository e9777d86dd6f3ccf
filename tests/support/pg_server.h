// A throwaway PostgreSQL server for tests: initdb on a temporary data directory, listening
// only on a Unix socket in that directory (no TCP port), trust authentication, stopped and
// removed on destruction. Uses Debian's binaries (/usr/lib/postgresql/<version>/bin, or
// $RETORT_PG_BIN); as root the server runs as user "nobody" (PostgreSQL refuses root).
// When it cannot start, ok() is false and why() says what is missing, for GTEST_SKIP.
#pragma once

#include <string>
#include <vector>

namespace retort::testing {

class PgServer {
 public:
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  // A libpq URI for the "postgres" database; each call to fresh_database() makes a new
  // empty database and returns its URI.
  std::string url(const std::string& dbname = "postgres") const;
  std::string fresh_database();

  // One server per test process, started on first use.
  static PgServer& shared();

 private:
  std::string run_as_owner(const std::string& tool, const std::vector<std::string>& args,
                           int* exit_code);
  bool ok_ = false;
  std::string why_;
  std::string bin_, dir_, data_;
  bool as_nobody_ = false;
  int databases_ = 0;
};

}  // namespace retort::testing
