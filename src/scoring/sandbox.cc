// The mechanics of sandbox.h: fork, set rlimits, exec bwrap with the namespace and mount
// options, feed stdin and drain stdout/stderr through poll(), kill the process group when
// the wall clock runs out, and classify how the run ended.
#include "scoring/sandbox.h"
#include "scoring/seccomp.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace retort {

namespace {

constexpr size_t kMaxFiles = 32;
// When retort runs as root, each sandbox runs bwrap as its own unused uid: RLIMIT_NPROC is
// not enforced for processes whose uid maps to root, and a distinct uid per concurrent
// sandbox keeps their process counts apart.
constexpr uid_t kSlotUidBase = 1800000000u;  // below 2^31: bwrap prints uids as int
constexpr size_t kSlots = 1024;

class SlotPool {
 public:
  size_t acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < kSlots; ++i) {
      size_t s = (next_ + i) % kSlots;
      if (!used_[s]) {
        used_[s] = true;
        next_ = s + 1;
        return s;
      }
    }
    return next_++ % kSlots;  // more than kSlots at once: share
  }
  void release(size_t s) {
    std::lock_guard<std::mutex> lock(mu_);
    used_[s] = false;
  }

 private:
  std::mutex mu_;
  bool used_[kSlots] = {};
  size_t next_ = 0;
};

SlotPool& slot_pool() {
  static SlotPool pool;
  return pool;
}

struct SlotLease {
  size_t slot;
  SlotLease() : slot(slot_pool().acquire()) {}
  ~SlotLease() { slot_pool().release(slot); }
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
};
constexpr int kStatusFd = 3;
constexpr int kFirstFileFd = 4;

// Closes fds it owns on every path out of run_sandboxed.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool is_executable(const std::string& p) {
  return ::access(p.c_str(), X_OK) == 0;
}

bool is_symlink(const char* p) {
  struct stat st;
  return ::lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

bool exists(const char* p) {
  struct stat st;
  return ::lstat(p, &st) == 0;
}

std::string last_line(const std::string& s) {
  size_t end = s.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t start = s.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = s.substr(start, end + 1 - start);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

const char* signal_label(int sig) {
  switch (sig) {
    case SIGKILL:
      return "SIGKILL";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGTERM:
      return "SIGTERM";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGPIPE:
      return "SIGPIPE";
    default:
      return "signal";
  }
}

bool valid_file_name(const std::string& n) {
  if (n.empty() || n == "." || n == ".." || n.size() > 200) return false;
  for (char c : n)
    if (c == '/' || c == '\0') return false;
  return true;
}

// bwrap's arguments for a run (files appear as fds kFirstFileFd + i in the child).
std::vector<std::string> bwrap_args(const std::string& bwrap, const SandboxRun& run) {
  const SandboxLimits& L = run.limits;
  std::vector<std::string> a = {
      bwrap, "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000",
      "--die-with-parent",
      // The program is the namespace's pid 1, without bwrap's
      // reaper process in between: one process less to start and
      // to tear down per run (bench/README.md, "Sandbox"). The
      // namespaces, mounts, limits and filter are the same; pid 1
      // ignores signals it has no handler for unless the kernel
      // forces them (faults, SIGKILL), hence the CPU limit's
      // SIGKILL below.
      "--as-pid-1", "--new-session", "--disable-userns", "--clearenv", "--setenv", "PATH",
      "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/sandbox", "--setenv", "LANG", "C.UTF-8",
      "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "PYTHONHASHSEED", "0", "--setenv",
      "MPLBACKEND", "Agg", "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "OPENBLAS_NUM_THREADS",
      "1", "--ro-bind", "/usr", "/usr"};
  // Debian's merged /usr: /bin, /lib, ... are symlinks into /usr; mirror what the host has.
  for (const char* d : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    if (is_symlink(d)) {
      char target[256];
      ssize_t n = ::readlink(d, target, sizeof target - 1);
      if (n <= 0) continue;
      a.insert(a.end(), {"--symlink", std::string(target, static_cast<size_t>(n)), d});
    } else if (exists(d)) {
      a.insert(a.end(), {"--ro-bind", d, d});
    }
  }
  // The few files of /etc that interpreters and the dynamic loader read; no secrets.
  for (const char* f : {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                        "/etc/alternatives", "/etc/localtime", "/etc/matplotlibrc", "/etc/python3",
                        "/etc/python3.11", "/etc/java-17-openjdk"})
    a.insert(a.end(), {"--ro-bind-try", f, f});
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev"});
  const std::string size = std::to_string(L.tmpfs_bytes);
  a.insert(a.end(), {"--perms", "1777", "--size", size, "--tmpfs", "/tmp"});
  a.insert(a.end(), {"--perms", "1777", "--size", size, "--tmpfs", "/sandbox"});
  for (size_t i = 0; i < run.files.size(); ++i) {
    a.insert(a.end(),
             {"--perms", run.files[i].executable ? "0755" : "0644", "--file",
              std::to_string(kFirstFileFd + static_cast<int>(i)), "/sandbox/" + run.files[i].name});
  }
  // Nothing else of the sandbox's root tmpfs is writable (it would be memory outside the
  // size limit).
  a.insert(a.end(), {"--remount-ro", "/"});
  // The seccomp filter (seccomp.h) comes on the fd after the files.
  if (!seccomp_filter_program().empty())
    a.insert(a.end(),
             {"--seccomp", std::to_string(kFirstFileFd + static_cast<int>(run.files.size()))});
  a.insert(a.end(), {"--chdir", "/sandbox", "--json-status-fd", std::to_string(kStatusFd), "--"});
  // Unprivileged, the process limit is set inside the sandbox's own user namespace (set
  // before bwrap, it would count every process the user has).
  if (::geteuid() != 0 && is_executable("/usr/bin/prlimit"))
    a.insert(a.end(),
             {"/usr/bin/prlimit", "--nproc=" + std::to_string(run.limits.processes), "--"});
  a.insert(a.end(), run.argv.begin(), run.argv.end());
  return a;
}

int memfd_with(const std::string& name, const std::string& content) {
  int fd = static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), MFD_CLOEXEC));
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return -1;
    }
    off += static_cast<size_t>(w);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

SandboxResult error_result(std::string reason) {
  SandboxResult r;
  r.verdict = Verdict::kError;
  r.reason = std::move(reason);
  return r;
}

// Parses bwrap's --json-status-fd stream: {"child-pid": N} once the sandbox is up, then
// {"exit-code": N} when the program ended (N = 128 + signal when it was killed).
bool json_int(const std::string& s, const char* key, int& out) {
  size_t p = s.find(key);
  if (p == std::string::npos) return false;
  p = s.find(':', p);
  if (p == std::string::npos) return false;
  out = std::atoi(s.c_str() + p + 1);
  return true;
}

// Sends SIGKILL to every live (non-zombie) process whose uid is uid; returns how many.
int kill_uid(uid_t uid) {
  int n = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || st.st_uid != uid) continue;
    char path[300], buf[512];
    std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (len <= 0) continue;
    buf[len] = 0;
    const char* paren = std::strrchr(buf, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'Z') continue;
    ::kill(static_cast<pid_t>(std::atoi(e->d_name)), SIGKILL);
    ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kTimeout:
      return "timeout";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

std::string sandbox_bwrap_path() {
  if (const char* e = std::getenv("RETORT_BWRAP"); e && *e) return e;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && is_executable(dir + "/bwrap")) return dir + "/bwrap";
    start = end + 1;
  }
  return "";
}

const std::string& sandbox_unavailable_reason() {
  static const std::string reason = [] {
    std::string bwrap = sandbox_bwrap_path();
    if (bwrap.empty())
      return std::string(
          "the code sandbox needs bubblewrap, and no `bwrap` was found on PATH; install it "
          "(Debian/Ubuntu: apt-get install bubblewrap) or set RETORT_BWRAP to its path");
    SandboxRun probe;
    probe.argv = {"/bin/sh", "-c", "exit 0"};
    probe.limits.wall_seconds = 20;
    SandboxResult r = run_sandboxed(probe);
    if (r.verdict == Verdict::kPass) return std::string();
    return "the code sandbox cannot be set up on this machine: " + bwrap + " failed (" +
           (r.reason.empty() ? std::string("no reason given") : r.reason) +
           "). It needs unprivileged user namespaces: check `sysctl "
           "kernel.unprivileged_userns_clone user.max_user_namespaces` (both must be "
           "non-zero), or, in a container, allow them (e.g. docker run --security-opt "
           "seccomp=unconfined --security-opt apparmor=unconfined)";
  }();
  return reason;
}

SandboxResult run_sandboxed(const SandboxRun& run) {
  const auto t0 = std::chrono::steady_clock::now();
  const SandboxLimits& L = run.limits;
  const std::string bwrap = sandbox_bwrap_path();
  if (bwrap.empty())
    return error_result("bubblewrap (bwrap) is not installed; apt-get install bubblewrap");
  if (run.argv.empty()) return error_result("no program to run (empty argv)");
  if (run.files.size() > kMaxFiles) return error_result("too many files for one sandboxed run");
  for (const auto& f : run.files)
    if (!valid_file_name(f.name)) return error_result("bad sandbox file name '" + f.name + "'");

  // Everything the child needs is prepared before fork: after it, only async-signal-safe
  // calls are allowed (retort is multi-threaded).
  std::vector<std::string> args = bwrap_args(bwrap, run);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};

  std::vector<Fd> files;
  for (const auto& f : run.files) {
    files.emplace_back(memfd_with(f.name, f.content));
    if (files.back().fd < 0)
      return error_result(std::string("memfd_create failed: ") + std::strerror(errno));
  }
  if (!seccomp_filter_program().empty()) {
    files.emplace_back(memfd_with("seccomp", seccomp_filter_program()));
    if (files.back().fd < 0)
      return error_result(std::string("memfd_create failed: ") + std::strerror(errno));
  }
  int in_pair[2], out_pipe[2], err_pipe[2], status_pipe[2];
  // stdin is a socket so that writing to a program that stopped reading gives EPIPE via
  // MSG_NOSIGNAL instead of SIGPIPE for the whole of retort.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
    return error_result(std::string("socketpair failed: ") + std::strerror(errno));
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return error_result(std::string("pipe failed: ") + std::strerror(errno));
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0)
    return error_result(std::string("pipe failed: ") + std::strerror(errno));
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
  if (::pipe2(status_pipe, O_CLOEXEC) != 0)
    return error_result(std::string("pipe failed: ") + std::strerror(errno));
  Fd status_r(status_pipe[0]), status_w(status_pipe[1]);

  // Child fd layout: 0 stdin, 1 stdout, 2 stderr, 3 bwrap status, 4.. files, then the
  // seccomp filter.
  std::vector<int> sources = {in_child.fd, out_w.fd, err_w.fd, status_w.fd};
  for (const auto& f : files) sources.push_back(f.fd);
  const int nfds = static_cast<int>(sources.size());

  auto rl = [](double v) { return static_cast<rlim_t>(std::max(1.0, std::ceil(v))); };
  const rlim_t cpu = rl(L.cpu_seconds);
  // Soft = hard: the kernel sends SIGKILL at the limit (a pid 1 would ignore SIGXCPU).
  struct rlimit lim_cpu = {cpu, cpu};
  struct rlimit lim_as = {static_cast<rlim_t>(L.memory_bytes), static_cast<rlim_t>(L.memory_bytes)};
  struct rlimit lim_nproc = {static_cast<rlim_t>(L.processes), static_cast<rlim_t>(L.processes)};
  struct rlimit lim_fsize = {static_cast<rlim_t>(L.file_bytes), static_cast<rlim_t>(L.file_bytes)};
  struct rlimit lim_nofile = {static_cast<rlim_t>(L.open_files), static_cast<rlim_t>(L.open_files)};
  struct rlimit lim_core = {0, 0};

  const bool as_root = ::geteuid() == 0;
  SlotLease lease;
  // Distinct per process too (several test binaries or runs at once, each killing what
  // runs as its uids afterwards): pid * 64 + slot stays below 2^31 for any pid_max.
  const uid_t slot_uid =
      kSlotUidBase + static_cast<uid_t>(::getpid()) * 64u + static_cast<uid_t>(lease.slot % 64);

  pid_t pid = ::fork();
  if (pid < 0) return error_result(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    // Move every source above the target range first, then into place (dup2 clears
    // FD_CLOEXEC on the target), then close everything else the process inherited.
    int high[kMaxFiles + 5];
    for (int i = 0; i < nfds; ++i) {
      high[i] = ::fcntl(sources[static_cast<size_t>(i)], F_DUPFD_CLOEXEC, 100);
      if (high[i] < 0) ::_exit(126);
    }
    for (int i = 0; i < nfds; ++i)
      if (::dup2(high[i], i) < 0) ::_exit(126);
    ::syscall(SYS_close_range, static_cast<unsigned>(nfds), ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGXFSZ, SIGXCPU, SIGINT, SIGTERM, SIGCHLD}) ::signal(s, SIG_DFL);
    ::setrlimit(RLIMIT_CPU, &lim_cpu);
    ::setrlimit(RLIMIT_AS, &lim_as);
    if (as_root) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(slot_uid, slot_uid, slot_uid) != 0 ||
          ::setresuid(slot_uid, slot_uid, slot_uid) != 0)
        ::_exit(126);
      ::setrlimit(RLIMIT_NPROC, &lim_nproc);
    }
    ::setrlimit(RLIMIT_FSIZE, &lim_fsize);
    ::setrlimit(RLIMIT_NOFILE, &lim_nofile);
    ::setrlimit(RLIMIT_CORE, &lim_core);
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  // Parent: a second setpgid closes the race where the kill below comes before the child's.
  ::setpgid(pid, pid);
  in_child.reset();
  out_w.reset();
  err_w.reset();
  status_w.reset();
  files.clear();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  Fd pidfd_owner(pidfd);

  for (int fd : {in_parent.fd, out_r.fd, err_r.fd, status_r.fd})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  SandboxResult res;
  std::string status;
  size_t in_off = 0;
  if (run.stdin_data.empty()) in_parent.reset();
  const auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(L.wall_seconds));
  bool timed_out = false, output_overflow = false, exited = false;
  int wstatus = 0;
  struct rusage usage {};

  auto drain = [&](Fd& fd, std::string& into, bool& truncated) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.fd, buf, sizeof buf);
      if (n > 0) {
        size_t room = static_cast<size_t>(L.output_bytes) -
                      std::min(into.size(), static_cast<size_t>(L.output_bytes));
        into.append(buf, std::min(room, static_cast<size_t>(n)));
        if (static_cast<size_t>(n) > room) {
          truncated = true;
          output_overflow = true;
        }
        continue;
      }
      if (n == 0) fd.reset();
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  };
  bool status_trunc = false;

  while (!exited) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    if (output_overflow) break;
    int wait_ms =
        static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) +
        1;
    struct pollfd pfds[5];
    int n = 0;
    int i_in = -1, i_out = -1, i_err = -1, i_st = -1, i_pid = -1;
    if (in_parent.fd >= 0) pfds[i_in = n++] = {in_parent.fd, POLLOUT, 0};
    if (out_r.fd >= 0) pfds[i_out = n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) pfds[i_err = n++] = {err_r.fd, POLLIN, 0};
    if (status_r.fd >= 0) pfds[i_st = n++] = {status_r.fd, POLLIN, 0};
    if (pidfd >= 0)
      pfds[i_pid = n++] = {pidfd, POLLIN, 0};
    else
      wait_ms = std::min(wait_ms, 10);
    int pr = ::poll(pfds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    if (i_in >= 0 && pfds[i_in].revents) {
      while (in_off < run.stdin_data.size()) {
        ssize_t w = ::send(in_parent.fd, run.stdin_data.data() + in_off,
                           run.stdin_data.size() - in_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
          in_off += static_cast<size_t>(w);
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        in_off = run.stdin_data.size();  // EPIPE: the program stopped reading
      }
      if (in_off >= run.stdin_data.size()) in_parent.reset();
    }
    if (i_out >= 0 && pfds[i_out].revents) drain(out_r, res.out, res.out_truncated);
    if (i_err >= 0 && pfds[i_err].revents) drain(err_r, res.err, res.err_truncated);
    if (i_st >= 0 && pfds[i_st].revents) drain(status_r, status, status_trunc);
    if (pidfd < 0 || (i_pid >= 0 && pfds[i_pid].revents)) {
      pid_t w = ::wait4(pid, &wstatus, WNOHANG, &usage);
      if (w == pid) exited = true;
    }
  }
  if (!exited) {
    // Killing bwrap's process group ends the namespace's init, and with it every process
    // inside (the kernel kills a pid namespace whose init dies).
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
    }
  }
  if (as_root) {
    // The kernel tears the namespace down when its init dies, but asynchronously; make
    // sure nothing of this run outlives it: kill what still runs as its uid, until none.
    for (int i = 0; i < 2000 && kill_uid(slot_uid) > 0; ++i) ::usleep(1000);
  }
  // What is still in the pipes (all writers are gone now).
  for (Fd* fd : {&out_r, &err_r, &status_r}) {
    if (fd->fd < 0) continue;
    ::fcntl(fd->fd, F_SETFL, ::fcntl(fd->fd, F_GETFL) & ~O_NONBLOCK);
  }
  {
    // The pipes could still have a writer if something escaped the namespace's teardown;
    // never block on them for long.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while ((out_r.fd >= 0 || err_r.fd >= 0 || status_r.fd >= 0) &&
           std::chrono::steady_clock::now() < until) {
      struct pollfd pfds[3];
      Fd* owners[3];
      int n = 0;
      for (Fd* fd : {&out_r, &err_r, &status_r})
        if (fd->fd >= 0) {
          owners[n] = fd;
          pfds[n++] = {fd->fd, POLLIN, 0};
        }
      if (::poll(pfds, static_cast<nfds_t>(n), 50) <= 0) break;
      for (int i = 0; i < n; ++i) {
        if (!pfds[i].revents) continue;
        ::fcntl(owners[i]->fd, F_SETFL, ::fcntl(owners[i]->fd, F_GETFL) | O_NONBLOCK);
        if (owners[i] == &out_r)
          drain(out_r, res.out, res.out_truncated);
        else if (owners[i] == &err_r)
          drain(err_r, res.err, res.err_truncated);
        else
          drain(status_r, status, status_trunc);
      }
    }
  }
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_used =
      static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;

  int child_pid = 0, code = -1;
  const bool started = json_int(status, "\"child-pid\"", child_pid);
  const bool have_code = json_int(status, "\"exit-code\"", code);
  if (timed_out) {
    res.verdict = Verdict::kTimeout;
    res.reason =
        "wall-clock limit of " + std::to_string(L.wall_seconds).substr(0, 5) + " s exceeded";
    return res;
  }
  if (output_overflow) {
    res.verdict = Verdict::kFail;
    res.reason = "output limit of " + std::to_string(L.output_bytes) + " bytes exceeded";
    return res;
  }
  if (!started) {
    std::string why = last_line(res.err);
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && why.empty())
      why = "could not execute " + bwrap;
    return error_result("sandbox setup failed: " + (why.empty() ? "bwrap gave no reason" : why));
  }
  if (!have_code) {
    // bwrap's own exit status when the status stream ended early.
    code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  }
  if (code > 128 && code < 128 + 65) {
    res.signal = code - 128;
  } else {
    res.exit_code = code;
  }
  // The CPU limit kills with SIGKILL (soft = hard, above); the CPU time wait4 reports is
  // tick-sampled and can read a little under the limit (0.947 s for a 1 s limit was seen on
  // a loaded VM), so a SIGKILL after 80% of it counts as the limit's.
  if (res.signal == SIGXCPU || (res.signal == SIGKILL && cpu_used >= L.cpu_seconds * 0.8)) {
    res.verdict = Verdict::kTimeout;
    res.reason = "CPU time limit of " + std::to_string(static_cast<long long>(cpu)) + " s exceeded";
    return res;
  }
  if (res.exit_code == 0) {
    res.verdict = Verdict::kPass;
    return res;
  }
  res.verdict = Verdict::kFail;
  std::string tail = last_line(res.err);
  if (res.signal) {
    res.reason = std::string("killed by ") + signal_label(res.signal) + " (" +
                 std::to_string(res.signal) + ")";
    if (res.signal == SIGXFSZ) res.reason += ": file size limit exceeded";
  } else {
    res.reason = "exit status " + std::to_string(res.exit_code);
  }
  if (!tail.empty()) res.reason += ": " + tail;
  return res;
}

void run_parallel(size_t count, size_t workers, const std::function<void(size_t)>& job) {
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, count);
  if (workers <= 1) {
    for (size_t i = 0; i < count; ++i) job(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w)
    threads.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) job(i);
    });
  for (auto& t : threads) t.join();
}

}  // namespace retort
