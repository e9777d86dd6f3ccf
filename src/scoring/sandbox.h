// Runs untrusted programs (a model's code) where they can hurt nothing.
//
// Each run is a separate process tree under bubblewrap (`bwrap`, Debian package
// `bubblewrap`) in fresh user, pid, network, ipc, uts and cgroup namespaces:
//  - no network (only a loopback device of its own), no view of the host's processes;
//  - a read-only view of /usr (interpreters, compilers, libraries) and a few files of /etc;
//    no /home, /root, /work or host /tmp;
//  - a private tmpfs of limited size as its working directory (/sandbox) and /tmp;
//  - an empty environment (no API keys) but for PATH, HOME=/sandbox, LANG;
//  - rlimits set before exec: CPU seconds, address space, processes (counted in the
//    sandbox's own user namespace, so they hold when retort runs as root), file size and
//    open files; a wall-clock limit that kills the whole namespace;
//  - stdout/stderr captured up to a cap; the run is stopped when it writes far more.
//  - a seccomp filter (seccomp.h) that makes ptrace, mount, unshare/setns, bpf, keyctl,
//    perf_event_open, kexec and similar calls fail with EPERM;
// The program is killed with the run if retort dies (--die-with-parent). It is its pid
// namespace's init (bwrap --as-pid-1): orphans it leaves become its children, signals it has
// no handler for are ignored unless the kernel forces them (faults, SIGKILL), so the CPU
// limit kills with SIGKILL.
//
// A run's verdict: pass (exit status 0), fail (any other exit, with the reason), timeout
// (wall clock or CPU time), error (the sandbox itself could not be set up; the reason says
// why). Whether a program is *correct* (output compared with the expected one) is decided
// one level up, in code_exec.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace retort {

enum class Verdict { kPass, kFail, kTimeout, kError };
const char* verdict_name(Verdict v);  // "pass", "fail", "timeout", "error"

struct SandboxLimits {
  double wall_seconds = 10.0;
  double cpu_seconds = 10.0;
  int64_t memory_bytes = int64_t{2} << 30;  // RLIMIT_AS of each process
  int64_t processes = 32;                   // RLIMIT_NPROC (threads count too)
  int64_t file_bytes = int64_t{16} << 20;   // RLIMIT_FSIZE: largest file it may write
  int64_t open_files = 256;                 // RLIMIT_NOFILE
  int64_t tmpfs_bytes = int64_t{64} << 20;  // size of /sandbox (and of /tmp)
  int64_t output_bytes = int64_t{1} << 20;  // stdout and stderr kept, each
};

// A file placed in the working directory before the program starts.
struct SandboxFile {
  std::string name;  // relative to /sandbox, no "/" or ".." (e.g. "main.py")
  std::string content;
  bool executable = false;
};

struct SandboxRun {
  std::vector<std::string> argv;  // argv[0]: a path inside the sandbox, e.g. /usr/bin/python3
  std::vector<SandboxFile> files;
  std::string stdin_data;
  SandboxLimits limits;
};

struct SandboxResult {
  Verdict verdict = Verdict::kError;
  std::string reason;  // "" for pass; else one line: "exit status 1: AssertionError", ...
  int exit_code = -1;  // the program's exit status, or -1
  int signal = 0;      // the signal that ended it, or 0
  std::string out, err;
  bool out_truncated = false, err_truncated = false;
  double wall_seconds = 0.0;
};

// The bwrap binary used: $RETORT_BWRAP if set, else the first bwrap on PATH, else "".
std::string sandbox_bwrap_path();

// "" when sandboxed runs work on this machine; else one line saying why not (bwrap
// missing, user namespaces disabled, ...) and what to do. Runs a trivial program once per
// process and remembers the answer.
const std::string& sandbox_unavailable_reason();

// Runs one program. Never throws for anything the program does; an unusable sandbox or a
// bad SandboxRun (e.g. a file name with "/") comes back as Verdict::kError with the reason.
SandboxResult run_sandboxed(const SandboxRun& run);

// Runs many jobs at once on `workers` threads (0 = the number of CPUs). Each job is any
// function (usually a sequence of run_sandboxed calls, one problem's tests). Returns when
// all are done.
void run_parallel(size_t count, size_t workers, const std::function<void(size_t)>& job);

// A version string that changes whenever the sandbox's behaviour or limits semantics
// change; part of every cached verdict's key.
// 2: seccomp filter; 3: the program is pid 1 (no reaper), CPU limit by SIGKILL, Java.
constexpr const char* kSandboxVersion = "retort-sandbox-3";

}  // namespace retort
