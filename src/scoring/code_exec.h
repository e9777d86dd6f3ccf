// Checks a program against its tests in the sandbox (sandbox.h): the verdict a code
// benchmark scores.
//
// Two kinds of test, as the benchmarks have them:
//  - assert style (HumanEval, MBPP, DS-1000): the tests are part of the program; it passes
//    when it exits with status 0 within the limits;
//  - stdin/stdout (CodeContests): the program runs once per test with the test's input and
//    passes a test when its output matches the expected output token by token
//    (whitespace-separated tokens, the usual lenient judge comparison).
// A problem stops at its first failing test (only pass/fail is scored).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scoring/sandbox.h"

namespace retort {

struct CodeTest {
  std::string input;
  std::string expected_output;
};

struct CodeJob {
  std::string language = "python";  // "python" or "cpp"
  std::string source;
  std::vector<CodeTest> tests;   // empty: run once, pass = exit status 0
  SandboxLimits limits;          // each test run
  SandboxLimits compile_limits;  // the compiler (cpp)
};

struct CodeVerdict {
  Verdict verdict = Verdict::kError;
  std::string reason;  // "" when passed; else what went wrong, naming the test
  int64_t tests_passed = 0;
  int64_t tests_total = 0;
};

// Limits used by the built-in code tasks (lm-eval's code_eval uses a 3 s timeout per
// program; we give CPU and wall clock that much, with a little wall slack for start-up).
SandboxLimits default_code_limits();

// Whitespace-token comparison of a program's output with the expected output.
bool outputs_match(const std::string& got, const std::string& expected);

// Runs the job. Never throws.
CodeVerdict check_program(const CodeJob& job);

// A key that identifies the job and the sandbox's version, for caching verdicts: the same
// key gives the same verdict (up to timing flukes, which a cache deliberately freezes).
std::string code_job_key(const CodeJob& job);

}  // namespace retort
