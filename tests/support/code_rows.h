// Synthetic problems in the code benchmarks' real Hub schemas, shared by the code task tests
// (tests/integration/code_tasks_test.cc for the built-in tasks, lmeval_task_files_test.cc for
// lm-eval's own files). Header-only.
#pragma once

#include <vector>

#include "util/json.h"

namespace retort::testing {

// Two HumanEval-shaped problems (openai/openai_humaneval: task_id, prompt,
// canonical_solution, test, entry_point).
inline std::vector<Json> humaneval_rows() {
  return {
      {{"task_id", "HumanEval/0"},
       {"prompt", "def add_one(x):\n    \"\"\"Return x plus one.\"\"\"\n"},
       {"canonical_solution", "    return x + 1\n"},
       {"test",
        "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-1) == 0\n"},
       {"entry_point", "add_one"}},
      {{"task_id", "HumanEval/1"},
       {"prompt", "def largest(xs):\n    \"\"\"Return the largest item of xs.\"\"\"\n"},
       {"canonical_solution", "    return max(xs)\n"},
       {"test", "def check(candidate):\n    assert candidate([1, 5, 2]) == 5\n"},
       {"entry_point", "largest"}},
  };
}

// Two MBPP-shaped problems (google-research-datasets/mbpp, config full: task_id, text, code,
// test_list, test_setup_code, challenge_test_list).
inline std::vector<Json> mbpp_rows() {
  return {
      {{"task_id", 11},
       {"text", "Write a function to double a number."},
       {"code", "def double(n):\r\n  return 2 * n"},
       {"test_list", {"assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"}},
       {"test_setup_code", ""},
       {"challenge_test_list", Json::array()}},
      {{"task_id", 12},
       {"text", "Write a function to reverse a string."},
       {"code", "def rev(s):\r\n  return s[::-1]"},
       {"test_list",
        {"assert rev('ab') == 'ba'", "assert rev('') == ''", "assert rev('x') == 'x'"}},
       {"test_setup_code", ""},
       {"challenge_test_list", Json::array()}},
  };
}

}  // namespace retort::testing
