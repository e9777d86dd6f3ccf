// Helpers for tests: scratch directories, running the real `retort` binary, background
// processes (e.g. `retort sim`), and files. Integration tests follow ccache's style: run
// the binary in a temp dir and check what a user would see.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort::testing {

// Path of the built retort binary and of the source tree.
std::string retort_binary();
std::string source_dir();

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is the program) with extra environment entries ("K=V"), waits at most
// timeout_s, and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {}, double timeout_s = 120,
                          const std::string& cwd = "");

// Convenience: run_command({retort_binary(), args...}).
CommandResult run_retort(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}, double timeout_s = 120,
                         const std::string& cwd = "");

// A child process running in the background; SIGTERM then SIGKILL on destruction.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  void kill_now(int sig);  // sends sig and reaps
  int wait();              // waits for exit, returns exit code (-1 on signal)

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Waits until path exists and is non-empty (up to timeout_s); returns its content trimmed.
std::string wait_for_file(const std::string& path, double timeout_s = 10);

// Starts `retort sim --port 0 --port-file F <extra_args>` and waits for its port.
class SimServer {
 public:
  explicit SimServer(const std::vector<std::string>& extra_args = {});
  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:PORT/v1
  BackgroundProcess& process() { return *proc_; }

 private:
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> proc_;
};

// GET /sim/stats of a running simulator (counters by route and status, successes, ...).
Json sim_stats(const SimServer& sim);

std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& content);

}  // namespace retort::testing
