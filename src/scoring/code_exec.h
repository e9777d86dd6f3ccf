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
#include "scoring/scoring.h"
#include "util/json.h"

namespace retort {

struct CodeTest {
  std::string input;
  std::string expected_output;
};

struct CodeJob {
  std::string language = "python";  // "python", "cpp" or "java"
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

// Runs the job. Never throws. cpp: compiled once with g++ -std=c++17 -O2 in its own
// sandbox run (job.compile_limits), the binary then run per test. java: compiled once with
// javac, the classes run per test with `java` (JVM flags sized to the limits: java_flags).
// A program that does not compile fails ("compile: ..."); a language whose toolchain is
// missing is an error naming the package to install (code_language_unavailable).
CodeVerdict check_program(const CodeJob& job);

// "" when programs in `language` can run in the sandbox (its interpreter or compiler is
// installed under /usr); else one line naming what is missing and the Debian package.
// Unknown languages are unavailable too.
std::string code_language_unavailable(const std::string& language);
const std::vector<std::string>& code_languages();  // python, cpp, java

// Java: where a program's source must be compiled from and which class runs it. file is
// the top-level public class's name + ".java" (javac insists), else "Main.java"; main_class
// is the top-level class that declares main(...) (with its package), else the public one.
// Comments, strings and character literals are ignored when looking.
struct JavaEntry {
  std::string file = "Main.java";
  std::string main_class = "Main";
};
JavaEntry java_entry(const std::string& source);

// The JVM flags a Java program runs with under `limits` (see docs/code.md, "Java"):
// serial GC and one active processor (few threads: the process limit counts them), heap
// at half the address-space limit and thread stacks at 1/128 of it (at most 64 MiB, for deep
// recursion), small reservations for class space and code cache (the address-space limit
// counts reserved memory), CDS on, no perf-data file, the JVM's warnings on stderr (not in
// the program's output).
std::vector<std::string> java_flags(const SandboxLimits& limits);

// A key that identifies the job and the sandbox's version, for caching verdicts: the same
// key gives the same verdict (up to timing flukes, which a cache deliberately freezes).
std::string code_job_key(const CodeJob& job);

// ------------------------------------------------------------- code tasks' scoring

// The filter `code_extract` (style: ...): the program to run, from one response.
//  - humaneval: doc.prompt + response with "```python\n" removed (lm-eval
//    tasks/humaneval/utils.py build_predictions);
//  - humaneval_instruct: doc.prompt + response cut at its first "```"
//    (build_predictions_instruct);
//  - mbpp: "from __future__ import annotations\n" + the first fenced block of
//    "```" + response, else the whole response (tasks/mbpp/utils.py extract_code_blocks);
//  - ds1000: DS-1000's postprocess (cut at </code>, ``` and "\nEND SOLUTION");
//  - fenced: the first fenced block (any language tag), else the whole response (chat
//    replies; Evalchemy's MBPP extraction).
// Both humaneval styles also turn "\n▁▁" runs into spaces (lm-eval's clean_text).
std::string extract_code(const std::string& style, const std::string& response, const Doc& doc);
const std::vector<std::string>& code_extract_styles();

// Metric names that may execute code: "pass@K" for an integer K >= 1. The math tasks
// use the same name for answers compared with the target, so a metric entry runs code
// only when it also says which language its programs are in (kwarg `language`).
bool is_code_metric(const std::string& name);
bool is_code_metric(const MetricSpec& spec);

// Where verdicts are remembered between runs (see cache/exec_cache.h); may be null.
class VerdictCache {
 public:
  virtual ~VerdictCache() = default;
  virtual bool get(const std::string& key, CodeVerdict& out) = 0;
  virtual void put(const std::string& key, const CodeVerdict& v) = 0;
};

struct CodeScoringOptions {
  VerdictCache* cache = nullptr;
  size_t workers = 0;  // programs run at once (0 = number of CPUs)
};

// The code metrics in specs for one doc. programs: the filtered responses (a list, one per
// repeat, or one string). gold: the doc's target, either test code appended to each
// program (assert style) or {"input": [...], "output": [...]} stdin/stdout tests.
// Metric kwargs: language (python, cpp, java; default python), program: ds1000 (the target is
// DS-1000's code_context and the solution is passed to its test_execution), timeout (seconds of CPU
// and wall clock per run; default 3), memory_mb (address space per process; default 4096). pass@K =
// the unbiased estimator over the n programs with c passing; left out when n < K. details (when
// given) receives one {verdict, reason} per program.
Json score_code(const std::vector<MetricSpec>& specs, const Json& programs, const Json& gold,
                const CodeScoringOptions& options, Json* details = nullptr);

// Evalchemy's result keys for a code task, from each scored doc's (n programs, c passing):
// "pass@K" for K in 1, 10, 100 where every doc has at least K programs (evalchemy
// eval/chat_benchmarks/HumanEval/human_eval/evaluation.py evaluate_functional_correctness:
// k=[1, 10, 100], `if (total >= k).all()`, the mean of the per-problem estimates).
// style "humaneval" (HumanEval, HumanEvalPlus) prefixes the language, "python_pass@1"
// (HumanEval/eval_instruct.py evaluate_responses: f"{lang}_{metric}"); "mbpp_plus"
// (MBPPPlus/eval_instruct.py) writes them bare; "mbpp" (MBPP/eval_instruct.py
// evaluate_responses) adds num_examples (docs scored) and completion_rate (num_examples /
// docs planned). An empty object when no doc was scored. Throws retort::Error for another
// style.
Json evalchemy_code_results(const std::vector<std::pair<int64_t, int64_t>>& n_c,
                            const std::string& style, int64_t planned_docs);
bool is_evalchemy_code_style(const std::string& style);

}  // namespace retort
