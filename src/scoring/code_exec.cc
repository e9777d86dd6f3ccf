#include "scoring/code_exec.h"

#include <cctype>

#include "util/hash.h"

namespace retort {

namespace {

std::vector<std::string_view> tokens(const std::string& s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.data() + start, i - start);
  }
  return out;
}

CodeVerdict from_run(const SandboxResult& r, const std::string& what) {
  CodeVerdict v;
  v.verdict = r.verdict;
  if (r.verdict != Verdict::kPass) v.reason = what + ": " + r.reason;
  return v;
}

}  // namespace

SandboxLimits default_code_limits() {
  SandboxLimits l;
  l.cpu_seconds = 3.0;
  l.wall_seconds = 6.0;
  l.memory_bytes = int64_t{4} << 30;
  return l;
}

bool outputs_match(const std::string& got, const std::string& expected) {
  return tokens(got) == tokens(expected);
}

CodeVerdict check_program(const CodeJob& job) {
  CodeVerdict v;
  v.tests_total = static_cast<int64_t>(job.tests.size());
  SandboxRun run;
  run.limits = job.limits;
  if (job.language == "python") {
    run.files = {{"main.py", job.source, false}};
    run.argv = {"/usr/bin/python3", "main.py"};
  } else if (job.language == "cpp") {
    // Compile in one sandboxed run that writes the binary to stdout; then run the binary
    // in fresh sandboxes, one per test.
    SandboxRun compile;
    compile.limits = job.compile_limits;
    compile.limits.output_bytes = std::max<int64_t>(compile.limits.output_bytes, 64 << 20);
    compile.files = {{"main.cpp", job.source, false}};
    compile.argv = {"/bin/sh", "-c", "g++ -std=c++17 -O2 -pipe -o main main.cpp 1>&2 && cat main"};
    SandboxResult c = run_sandboxed(compile);
    if (c.verdict != Verdict::kPass) {
      CodeVerdict cv = from_run(c, "compile");
      // A program that does not compile is the model's failure, not the sandbox's.
      if (cv.verdict == Verdict::kError && c.reason.rfind("sandbox setup", 0) != 0)
        cv.verdict = Verdict::kFail;
      cv.tests_total = v.tests_total;
      return cv;
    }
    run.files = {{"main", std::move(c.out), true}};
    run.argv = {"/sandbox/main"};
  } else {
    v.reason = "language '" + job.language + "' is not supported (python, cpp)";
    return v;
  }

  if (job.tests.empty()) {
    CodeVerdict r = from_run(run_sandboxed(run), "run");
    return r;
  }
  for (size_t i = 0; i < job.tests.size(); ++i) {
    run.stdin_data = job.tests[i].input;
    SandboxResult r = run_sandboxed(run);
    const std::string what =
        "test " + std::to_string(i + 1) + "/" + std::to_string(job.tests.size());
    if (r.verdict != Verdict::kPass) {
      CodeVerdict f = from_run(r, what);
      f.tests_passed = v.tests_passed;
      f.tests_total = v.tests_total;
      return f;
    }
    if (!outputs_match(r.out, job.tests[i].expected_output)) {
      v.verdict = Verdict::kFail;
      v.reason = what + ": wrong answer";
      return v;
    }
    ++v.tests_passed;
  }
  v.verdict = Verdict::kPass;
  return v;
}

std::string code_job_key(const CodeJob& job) {
  auto lim = [](const SandboxLimits& l) {
    return std::to_string(l.wall_seconds) + "," + std::to_string(l.cpu_seconds) + "," +
           std::to_string(l.memory_bytes) + "," + std::to_string(l.processes) + "," +
           std::to_string(l.file_bytes) + "," + std::to_string(l.tmpfs_bytes) + "," +
           std::to_string(l.output_bytes);
  };
  std::string k = std::string(kSandboxVersion) + "\n" + job.language + "\n" + lim(job.limits) +
                  "\n" + lim(job.compile_limits) + "\n" + std::to_string(job.source.size()) + "\n" +
                  job.source;
  for (const auto& t : job.tests)
    k += "\n" + std::to_string(t.input.size()) + ":" + t.input + "\n" +
         std::to_string(t.expected_output.size()) + ":" + t.expected_output;
  return sha256_hex(k);
}

}  // namespace retort
