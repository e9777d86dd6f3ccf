#include "support/pg_server.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "support/test_support.h"

namespace retort::testing {

namespace fs = std::filesystem;

namespace {

std::string find_bin() {
  const char* env = std::getenv("RETORT_PG_BIN");
  if (env && *env) return env;
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string b = e.path().string() + "/bin";
    if (fs::exists(b + "/initdb") && fs::exists(b + "/pg_ctl") && b > best) best = b;
  }
  return best;
}

}  // namespace

std::string PgServer::run_as_owner(const std::string& tool, const std::vector<std::string>& args,
                                   int* exit_code) {
  std::vector<std::string> argv;
  if (as_nobody_) argv = {"runuser", "-u", "nobody", "--"};
  argv.push_back(bin_ + "/" + tool);
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = run_command(argv, {}, 120, dir_);
  *exit_code = r.exit_code;
  return r.out + r.err;
}

PgServer::PgServer() {
  bin_ = find_bin();
  if (bin_.empty()) {
    why_ =
        "PostgreSQL server binaries not found (install Debian's postgresql package, or set "
        "RETORT_PG_BIN)";
    return;
  }
  // Under /tmp so that "nobody" can reach it whatever $TMPDIR is.
  char tmpl[] = "/tmp/retort-pg-XXXXXX";
  if (!mkdtemp(tmpl)) {
    why_ = "cannot create a temporary directory";
    return;
  }
  dir_ = tmpl;
  data_ = dir_ + "/data";
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("nobody");
    if (!pw || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      why_ = "running as root and cannot hand the data directory to user nobody";
      return;
    }
    as_nobody_ = true;
  }
  int rc = 0;
  std::string out = run_as_owner(
      "initdb",
      {"-D", data_, "-U", "retort", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"}, &rc);
  if (rc != 0) {
    why_ = "initdb failed: " + out.substr(0, 400);
    return;
  }
  out = run_as_owner("pg_ctl",
                     {"-D", data_, "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
                      "-k " + dir_ + " -c listen_addresses= -p 5432 -F", "start"},
                     &rc);
  if (rc != 0) {
    std::error_code ec;
    why_ = "pg_ctl start failed: " + out.substr(0, 300) +
           (fs::exists(dir_ + "/server.log", ec) ? read_text(dir_ + "/server.log").substr(0, 300)
                                                 : "");
    return;
  }
  ok_ = true;
}

PgServer::~PgServer() {
  if (!dir_.empty()) {
    if (ok_) {
      int rc = 0;
      run_as_owner("pg_ctl", {"-D", data_, "-m", "immediate", "-w", "stop"}, &rc);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PgServer::url(const std::string& dbname) const {
  return "postgresql://retort@/" + dbname + "?host=" + dir_ + "&port=5432";
}

std::string PgServer::fresh_database() {
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++databases_);
  CommandResult r =
      run_command({bin_ + "/createdb", "-h", dir_, "-p", "5432", "-U", "retort", name}, {}, 60);
  if (r.exit_code != 0) return "";
  return url(name);
}

PgServer& PgServer::shared() {
  static std::unique_ptr<PgServer> server(new PgServer());
  return *server;
}

}  // namespace retort::testing
