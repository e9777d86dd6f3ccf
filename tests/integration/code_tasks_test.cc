// The built-in code tasks end to end: synthetic problems in each benchmark's Hub schema
// served by the local Hub stand-in, scripted `retort sim` replies (right and wrong
// programs), `retort run --confirm_run_unsafe_code`, and the pass@1 that results.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "data/fake_hub.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

std::string jsonl(const std::vector<Json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

Json results_of(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) return Json();
  return Json::parse(read_text(m[1].str()));
}

// Two HumanEval-shaped problems (task_id, prompt, canonical_solution, test, entry_point).
std::vector<Json> humaneval_rows() {
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

class CodeTasks : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.add_commit("openai/openai_humaneval",
                    {{"openai_humaneval/test-00000-of-00001.jsonl", jsonl(humaneval_rows())}});
    std::vector<Json> mbpp = {
        {{"task_id", 11},
         {"text", "Write a function to double a number."},
         {"code", "def double(n):\r\n  return 2 * n"},
         {"test_list",
          {"assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"}},
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
    hub_.add_commit("google-research-datasets/mbpp",
                    {{"full/test-00000-of-00001.jsonl", jsonl(mbpp)}});
    hub_.add_commit("deepmind/code_contests",
                    {{"data/test-00000-of-00001.jsonl", jsonl(code_contests_rows())}});
    hub_.add_commit("xlangai/DS-1000", {{"test.jsonl", jsonl(ds1000_rows())}});
  }

  // CodeContests' schema: name, description, {public,private,generated}_tests
  // {input, output}, solutions {language, solution} (3 = PYTHON3), ...
  static std::vector<Json> code_contests_rows() {
    auto tests = [](std::vector<std::string> in, std::vector<std::string> out) {
      return Json{{"input", in}, {"output", out}};
    };
    return {
        {{"name", "1_A. Sum"},
         {"description", "Print the sum of two integers a and b."},
         {"public_tests", tests({"1 2\n"}, {"3\n"})},
         {"private_tests", tests({"5 7\n", "-1 1\n"}, {"12\n", "0\n"})},
         {"generated_tests", tests({"100 200\n"}, {"300\n"})},
         {"source", 2},
         {"difficulty", 7},
         {"solutions",
          {{"language", {3, 2}},
           {"solution",
            {"a, b = map(int, input().split())\nprint(a + b)\n",
             "#include <cstdio>\nint main(){long a,b;scanf(\"%ld "
             "%ld\",&a,&b);printf(\"%ld\\n\",a+b);}\n"}}}},
         {"incorrect_solutions", {{"language", Json::array()}, {"solution", Json::array()}}},
         {"time_limit", {{"seconds", 2}, {"nanos", 0}}},
         {"memory_limit_bytes", 256000000}},
        {{"name", "1_B. Max"},
         {"description", "Print the largest of n integers given on one line."},
         {"public_tests", tests({"3 1 4\n"}, {"4\n"})},
         {"private_tests", tests({"-5 -2\n"}, {"-2\n"})},
         {"generated_tests", tests({}, {})},
         {"source", 2},
         {"difficulty", 7},
         {"solutions",
          {{"language", {3}}, {"solution", {"print(max(map(int, input().split())))\n"}}}},
         {"incorrect_solutions", {{"language", Json::array()}, {"solution", Json::array()}}},
         {"time_limit", {{"seconds", 2}, {"nanos", 0}}},
         {"memory_limit_bytes", 256000000}},
    };
  }

  // DS-1000's schema: prompt, reference_code, metadata {library, ...}, code_context with
  // test_execution(solution: str).
  static std::vector<Json> ds1000_rows() {
    const std::string context =
        "import numpy as np\n"
        "def test_execution(solution: str):\n"
        "    env = {'np': np, 'a': np.array([1, 2, 3])}\n"
        "    exec(solution, env)\n"
        "    assert env['result'] == 6\n";
    auto meta = [](const char* lib, int id) {
      return Json{
          {"problem_id", id},   {"library_problem_id", id},      {"library", lib},
          {"test_case_cnt", 1}, {"perturbation_type", "Origin"}, {"perturbation_origin_id", id}};
    };
    return {
        {{"prompt",
          "Problem:\nSum the array a.\nA:\n<code>\nimport numpy as np\na = np.array([1, 2, "
          "3])\n</code>\nresult = ... # put solution in this variable\nBEGIN SOLUTION\n<code>\n"},
         {"reference_code", "result = a.sum()\n"},
         {"metadata", meta("Numpy", 0)},
         {"code_context", context}},
        {{"prompt", "Problem:\nSum it with TensorFlow.\nBEGIN SOLUTION\n<code>\n"},
         {"reference_code", "result = 6\n"},
         {"metadata", meta("Tensorflow", 1)},
         {"code_context", context}},
        {{"prompt", "Problem:\nSum the tensor t.\nBEGIN SOLUTION\n<code>\n"},
         {"reference_code", "result = int(t.sum())\n"},
         {"metadata", meta("Pytorch", 2)},
         {"code_context",
          "import torch\n"
          "def test_execution(solution: str):\n"
          "    env = {'torch': torch, 't': torch.tensor([1, 2, 3])}\n"
          "    exec(solution, env)\n"
          "    assert env['result'] == 6\n"}},
    };
  }

  std::vector<std::string> env() const {
    return {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + dir_.file("hf")};
  }

  CommandResult run(const SimServer& sim, const std::string& tasks, bool consent = true) {
    std::vector<std::string> args = {"run",           "--model",       "hosted_vllm/m",
                                     "--base-url",    sim.base_url(),  "--tasks",
                                     tasks,           "--use_cache",   dir_.file("cache.sqlite"),
                                     "--output_path", dir_.file("out")};
    if (consent) args.push_back("--confirm_run_unsafe_code");
    return run_retort(args, env(), 300);
  }

  std::string script(const std::vector<Json>& rules) {
    std::string path = dir_.file("script" + std::to_string(++scripts_) + ".jsonl");
    write_text(path, jsonl(rules));
    return path;
  }

  FakeHub hub_;
  TempDir dir_;
  int scripts_ = 0;
};

TEST_F(CodeTasks, HumanEvalScoresRightAndWrongCompletions) {
  // add_one answered right; largest answered with min (wrong).
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "def add_one"}, {"reply", "    return x + 1\n"}},
                         {{"pattern", "def largest"}, {"reply", "    return min(xs)\n"}}})});
  CommandResult r = run(sim, "HumanEval");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json res = results_of(r);
  EXPECT_DOUBLE_EQ(res["results"]["humaneval"]["pass@1,create_test"].get<double>(), 0.5)
      << res.dump();
}

TEST_F(CodeTasks, HumanEvalCanonicalSolutionsPass) {
  std::vector<Json> rules;
  for (const auto& row : humaneval_rows())
    rules.push_back({{"pattern", "def " + row["entry_point"].get<std::string>()},
                     {"reply", row["canonical_solution"]}});
  SimServer sim({"--model", "m", "--script", script(rules)});
  CommandResult r = run(sim, "humaneval");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(results_of(r)["results"]["humaneval"]["pass@1,create_test"].get<double>(), 1.0);
}

TEST_F(CodeTasks, MaliciousCompletionIsContainedAndFails) {
  // A completion that reads secrets, opens the network and forks: it must fail and the
  // run must still finish.
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "def add_one"},
                          {"reply",
                           "    import os, socket\n"
                           "    assert 'RETORT_TEST_SECRET' not in os.environ\n"
                           "    socket.create_connection(('127.0.0.1', 1), timeout=1)\n"
                           "    return x + 1\n"}},
                         {{"pattern", "def largest"}, {"reply", "    return max(xs)\n"}}})});
  std::vector<std::string> e = env();
  CommandResult r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(),
                                "--tasks", "humaneval", "--confirm_run_unsafe_code", "--use_cache",
                                dir_.file("cache.sqlite"), "--output_path", dir_.file("out")},
                               {e[0], e[1], "RETORT_TEST_SECRET=sk-123"}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(results_of(r)["results"]["humaneval"]["pass@1,create_test"].get<double>(), 0.5);
}

TEST_F(CodeTasks, RunningCodeNeedsConsent) {
  SimServer sim({"--model", "m", "--mode", "fixed", "--reply", "    return 0\n"});
  CommandResult r = run(sim, "humaneval", /*consent=*/false);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--confirm_run_unsafe_code"), std::string::npos) << r.err;
}

TEST_F(CodeTasks, MbppScoresRightAndWrongReplies) {
  // A right program and a wrong one, both plain as a base model writes them.
  SimServer sim(
      {"--model", "m", "--script",
       script(
           {{{"pattern", "double a number"}, {"reply", "def double(n):\n    return n * 2\n[DONE]"}},
            {{"pattern", "reverse a string"}, {"reply", "def rev(s):\n    return s\n[DONE]"}}})});
  CommandResult r = run(sim, "MBPP");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(results_of(r)["results"]["mbpp"]["pass@1,extract_code"].get<double>(), 0.5);
}

TEST_F(CodeTasks, CodeContestsRunsStdinTestsAndCanonicalSolutionsPass) {
  // Sum answered with its canonical PYTHON3 solution; Max with a program that fails only
  // on the private test (negative numbers).
  const std::string sum = code_contests_rows()[0]["solutions"]["solution"][0];
  SimServer sim(
      {"--model", "m", "--script",
       script({{{"pattern", "sum of two"}, {"reply", "Here:\n```python\n" + sum + "```\n"}},
               {{"pattern", "largest of"},
                {"reply", "```python\nprint(max([0] + list(map(int, input().split()))))\n```"}}})});
  CommandResult r = run(sim, "CodeContests");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(results_of(r)["results"]["code_contests"]["pass@1,extract_code"].get<double>(),
                   0.5);
}

TEST_F(CodeTasks, Ds1000SkipsUnavailableLibrariesAndRunsTheRest) {
  if (!std::filesystem::exists("/usr/lib/python3/dist-packages/numpy"))
    GTEST_SKIP() << "python3-numpy is not installed";
  // PyTorch problems run where python3-torch is installed and are skipped otherwise.
  const bool torch = std::filesystem::exists("/usr/lib/python3/dist-packages/torch");
  SimServer sim(
      {"--model", "m", "--script",
       script({{{"pattern", "Sum the array"}, {"reply", "result = a.sum()\n</code>"}},
               {{"pattern", "Sum the tensor"}, {"reply", "result = int(t.sum())\n</code>"}}})});
  CommandResult r = run(sim, "DS-1000");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("skipped 1 problem(s): Tensorflow: not available from Debian"),
            std::string::npos)
      << r.err;
  Json res = results_of(r);
  EXPECT_DOUBLE_EQ(res["results"]["ds1000"]["pass@1,extract_code"].get<double>(), 1.0);
  EXPECT_EQ(res["n-samples"]["ds1000"]["effective"].get<int>(), torch ? 2 : 1)
      << res["n-samples"].dump();
  // The skipped problems are counted, with the reason, in the results and the score table.
  Json expected =
      Json::array({{{"count", 1}, {"reason", "Tensorflow: not available from Debian"}}});
  if (!torch)
    expected.push_back(
        {{"count", 1},
         {"reason", "Pytorch: python3-torch is not installed (apt-get install python3-torch)"}});
  EXPECT_EQ(res["retort"]["skipped"]["ds1000"], expected) << res["retort"].dump();
  EXPECT_NE(r.out.find(torch ? "ds1000 (1 skipped)" : "ds1000 (2 skipped)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ds1000: 1 skipped: Tensorflow: not available from Debian"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace retort::testing
