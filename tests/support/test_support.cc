#include "support/test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "engine/http.h"

namespace retort::testing {

namespace fs = std::filesystem;

std::string retort_binary() {
  return RETORT_BINARY;
}
std::string source_dir() {
  return RETORT_SOURCE_DIR;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/retort-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::vector<char*> to_cargv(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void apply_env(const std::vector<std::string>& env) {
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      unsetenv(kv.c_str());
    } else {
      setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          double timeout_s, const std::string& cwd) {
  TempDir dir;
  std::string out_path = dir.file("stdout"), err_path = dir.file("stderr");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(o, 1);
    dup2(e, 2);
    dup2(in, 0);
    setpgid(0, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    apply_env(env);
    auto cargv = to_cargv(argv);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  CommandResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.exit_code = -1;
      r.out = read_text(out_path);
      r.err = read_text(err_path) + "\n[test_support: timed out after " +
              std::to_string(timeout_s) + "s]";
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

CommandResult run_retort(const std::vector<std::string>& args, const std::vector<std::string>& env,
                         double timeout_s, const std::string& cwd) {
  std::vector<std::string> argv{retort_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Every run records itself in the results database: unless the test names one, that is a
  // database in a directory of this test process, never the user's.
  static TempDir data_home;
  std::vector<std::string> full_env{"RETORT_DB", "XDG_DATA_HOME=" + data_home.path()};
  full_env.insert(full_env.end(), env.begin(), env.end());
  return run_command(argv, full_env, timeout_s, cwd);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::string& log_path,
                                     const std::vector<std::string>& env) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    dup2(in, 0);
    setpgid(0, 0);
    apply_env(env);
    auto cargv = to_cargv(argv);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (reaped_ || pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      reaped_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  reaped_ = true;
}

bool BackgroundProcess::running() {
  if (reaped_) return false;
  int status;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

void BackgroundProcess::kill_now(int sig) {
  if (reaped_) return;
  kill(pid_, sig);
  waitpid(pid_, nullptr, 0);
  reaped_ = true;
}

int BackgroundProcess::wait() {
  if (reaped_) return -1;
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string wait_for_file(const std::string& path, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (fs::exists(path, ec) && fs::file_size(path, ec) > 0) {
      std::string s = read_text(path);
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      if (!s.empty()) return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("timed out waiting for " + path);
}

SimServer::SimServer(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{retort_binary(),  "sim", "--port", "0", "--port-file",
                                dir_.file("port")};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  proc_ = std::make_unique<BackgroundProcess>(argv, dir_.file("sim.log"));
  try {
    port_ = std::stoi(wait_for_file(dir_.file("port"), 15));
  } catch (const std::exception&) {
    throw std::runtime_error("retort sim did not start; its log:\n" +
                             read_text(dir_.file("sim.log")));
  }
}

std::string SimServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

Json sim_stats(const SimServer& sim) {
  HttpCall c;
  c.method = "GET";
  c.url = "http://127.0.0.1:" + std::to_string(sim.port()) + "/sim/stats";
  c.timeout_s = 10;
  return Json::parse(http_call(c).body);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace retort::testing
