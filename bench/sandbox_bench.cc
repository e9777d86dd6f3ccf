// Sandboxed program executions per second against plain, unsandboxed `python3`
// subprocesses, in the same run on the same programs (see README.md, "Sandbox").
//
//   build/bench/sandbox_bench [N] [workers]     (default N=200, workers = CPUs)
//
// Each execution runs a small HumanEval-shaped program (define a function, assert on it).
// Reported: executions/s for each way and the overhead ratio (plain rate / sandboxed rate).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "scoring/sandbox.h"

extern char** environ;

namespace {

const char* kProgram =
    "def add(a, b):\n    return a + b\n\n"
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n\n"
    "check(add)\n";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Plain: write the program to a temp file and run `python3 file` (what a harness without a
// sandbox does per program).
bool run_plain(const std::string& dir, size_t i) {
  std::string path = dir + "/p" + std::to_string(i) + ".py";
  std::ofstream(path) << kProgram;
  const char* argv[] = {"/usr/bin/python3", path.c_str(), nullptr};
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
    return false;
  int st = 0;
  waitpid(pid, &st, 0);
  std::remove(path.c_str());
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool run_boxed(size_t) {
  retort::SandboxRun run;
  run.files = {{"main.py", kProgram, false}};
  run.argv = {"/usr/bin/python3", "main.py"};
  return retort::run_sandboxed(run).verdict == retort::Verdict::kPass;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  size_t workers = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 0;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  const std::string& why = retort::sandbox_unavailable_reason();
  if (!why.empty()) {
    std::fprintf(stderr, "%s\n", why.c_str());
    return 1;
  }
  char tmpl[] = "/tmp/sandbox_bench_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::printf("%zu executions of a small python program, %zu workers\n", n, workers);
  double plain_rate[3], boxed_rate[3];
  // Alternate the two ways three times; report medians.
  for (int round = 0; round < 3; ++round) {
    std::atomic<size_t> bad{0};
    auto t0 = std::chrono::steady_clock::now();
    retort::run_parallel(n, workers, [&](size_t i) { bad += !run_plain(dir, i); });
    plain_rate[round] = static_cast<double>(n) / seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    retort::run_parallel(n, workers, [&](size_t i) { bad += !run_boxed(i); });
    boxed_rate[round] = static_cast<double>(n) / seconds_since(t0);
    if (bad) std::fprintf(stderr, "round %d: %zu executions failed\n", round, bad.load());
    std::printf("round %d: plain %.1f/s  sandboxed %.1f/s  overhead %.2fx\n", round,
                plain_rate[round], boxed_rate[round], plain_rate[round] / boxed_rate[round]);
  }
  auto median = [](double* v) {
    std::sort(v, v + 3);
    return v[1];
  };
  double p = median(plain_rate), b = median(boxed_rate);
  std::printf("median: plain %.1f/s  sandboxed %.1f/s  overhead %.2fx\n", p, b, p / b);
  rmdir(dir.c_str());
  return 0;
}
