// The built-in code tasks end to end: synthetic problems in each benchmark's Hub schema
// served by the local Hub stand-in, scripted `retort sim` replies (right and wrong
// programs), `retort run --confirm_run_unsafe_code`, and the pass@1 that results.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "data/fake_hub.h"
#include "scoring/code_exec.h"
#include "support/code_rows.h"
#include "support/hub_task_test.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

Json results_of(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) return Json();
  return Json::parse(read_text(m[1].str()));
}

class CodeTasks : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.add_commit("openai/openai_humaneval",
                    {{"openai_humaneval/test-00000-of-00001.jsonl", jsonl(humaneval_rows())}});
    hub_.add_commit("google-research-datasets/mbpp",
                    {{"full/test-00000-of-00001.jsonl", jsonl(mbpp_rows())}});
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
          {{"language", {3, 2, 4}},
           {"solution",
            {"a, b = map(int, input().split())\nprint(a + b)\n",
             "#include <cstdio>\nint main(){long a,b;scanf(\"%ld "
             "%ld\",&a,&b);printf(\"%ld\\n\",a+b);}\n",
             "import java.util.*;\n\npublic class Solution {\n  // reads \"a b\"\n"
             "  public static void main(String[] args) {\n"
             "    Scanner in = new Scanner(System.in);\n"
             "    System.out.println(in.nextLong() + in.nextLong());\n  }\n}\n"}}}},
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
          {{"language", {3, 4, 2}},
           {"solution",
            {"print(max(map(int, input().split())))\n",
             "import java.io.*;\nimport java.util.*;\n\nclass Helper {\n"
             "  static long max(long a, long b) { return Math.max(a, b); }\n}\n\n"
             "class Main {\n  public static void main(String[] args) throws IOException {\n"
             "    StringTokenizer st = new StringTokenizer(\n"
             "        new BufferedReader(new InputStreamReader(System.in)).readLine());\n"
             "    long best = Long.MIN_VALUE;\n"
             "    while (st.hasMoreTokens()) best = Helper.max(best, "
             "Long.parseLong(st.nextToken()));\n"
             "    System.out.println(best);\n  }\n}\n",
             "#include <iostream>\nint main(){long x,b;std::cin>>b;while(std::cin>>x)if(x>b)b=x;"
             "std::cout<<b<<\"\\n\";}\n"}}}},
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
    std::vector<std::string> args = {"run",           "--model",        "hosted_vllm/m",
                                     "--base-url",    sim.base_url(),   "--tasks",
                                     tasks,           "--use_cache",    dir_.file("cache.sqlite"),
                                     "--output_path", dir_.file("out"), "--log_samples"};
    if (consent) args.push_back("--confirm_run_unsafe_code");
    return run_retort(args, env(), 300);
  }

  std::string script(const std::vector<Json>& rules) {
    std::string path = dir_.file("script" + std::to_string(++scripts_) + ".jsonl");
    write_text(path, jsonl(rules));
    return path;
  }

  // Right answers to ds1000_rows()'s NumPy and PyTorch problems (TensorFlow's is skipped).
  std::string ds1000_replies() {
    return script({{{"pattern", "Sum the array"}, {"reply", "result = a.sum()\n</code>"}},
                   {{"pattern", "Sum the tensor"}, {"reply", "result = int(t.sum())\n</code>"}}});
  }

  // The canonical solutions of one language (deepmind/code_contests contest_problem.proto:
  // Solution.Language UNKNOWN_LANGUAGE 0, PYTHON 1 (Python 2), CPP 2, PYTHON3 3, JAVA 4),
  // each problem answered with its first one, in a fenced block.
  std::string canonical_replies(int language, const char* fence) {
    std::vector<Json> rules;
    for (const auto& row : code_contests_rows()) {
      const Json& sol = row["solutions"];
      for (size_t i = 0; i < sol["language"].size(); ++i)
        if (sol["language"][i] == language) {
          const std::string d = row["description"];
          rules.push_back({{"pattern", d.substr(0, 20)},
                           {"reply", std::string("```") + fence + "\n" +
                                         sol["solution"][i].get<std::string>() + "```\n"}});
          break;
        }
    }
    return script(rules);
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
  const Json& he = res["results"]["humaneval"];
  EXPECT_DOUBLE_EQ(he["pass@1,create_test"].get<double>(), 0.5) << res.dump();
  // Evalchemy's key beside lm-eval's (HumanEval/eval_instruct.py: f"{lang}_{metric}"); one
  // program per problem, so no pass@10.
  EXPECT_DOUBLE_EQ(he["python_pass@1"].get<double>(), 0.5) << he.dump();
  EXPECT_FALSE(he.contains("python_pass@10")) << he.dump();
  // The score table shows lm-eval's key only.
  EXPECT_EQ(r.out.find("python_pass"), std::string::npos) << r.out;
  // The samples log says, per program, its verdict and why it failed.
  std::map<std::string, Json> answers;  // entry point -> retort.answers
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.file("out"))) {
    if (e.path().filename().string().rfind("samples_humaneval", 0) != 0) continue;
    std::istringstream lines(read_text(e.path().string()));
    for (std::string line; std::getline(lines, line);) {
      Json rec = Json::parse(line);
      answers[rec["doc"]["entry_point"].get<std::string>()] = rec["retort"]["answers"];
    }
  }
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers["add_one"], Json::parse(R"([{"verdict": "pass", "reason": ""}])"));
  ASSERT_EQ(answers["largest"].size(), 1u) << answers["largest"].dump();
  EXPECT_EQ(answers["largest"][0]["verdict"], "fail");
  EXPECT_NE(answers["largest"][0]["reason"].get<std::string>().find("AssertionError"),
            std::string::npos)
      << answers["largest"].dump();
}

TEST_F(CodeTasks, HumanEvalRepeatsGiveEvalchemysPassAt10) {
  // Ten programs per problem (all alike, as the scripted server answers them): pass@10 is
  // written under both harnesses' names, pass@100 under neither.
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "def add_one"}, {"reply", "    return x + 1\n"}},
                         {{"pattern", "def largest"}, {"reply", "    return min(xs)\n"}}})});
  std::vector<std::string> args = {
      "run",           "--model",       "hosted_vllm/m", "--base-url", sim.base_url(),
      "--tasks",       "humaneval",     "--repeats",     "10",         "--confirm_run_unsafe_code",
      "--output_path", dir_.file("out")};
  CommandResult r = run_retort(args, env(), 300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json he = results_of(r)["results"]["humaneval"];
  EXPECT_DOUBLE_EQ(he["python_pass@1"].get<double>(), 0.5) << he.dump();
  EXPECT_DOUBLE_EQ(he["python_pass@10"].get<double>(), 0.5) << he.dump();
  EXPECT_FALSE(he.contains("python_pass@100")) << he.dump();
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
  const Json mbpp = results_of(r)["results"]["mbpp"];
  EXPECT_DOUBLE_EQ(mbpp["pass@1,extract_code"].get<double>(), 0.5);
  // Evalchemy's MBPP keys (MBPP/eval_instruct.py evaluate_responses) beside lm-eval's.
  EXPECT_DOUBLE_EQ(mbpp["pass@1"].get<double>(), 0.5) << mbpp.dump();
  EXPECT_EQ(mbpp["num_examples"], 2) << mbpp.dump();
  EXPECT_DOUBLE_EQ(mbpp["completion_rate"].get<double>(), 1.0) << mbpp.dump();
  EXPECT_FALSE(mbpp.contains("python_pass@1")) << mbpp.dump();
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

TEST_F(CodeTasks, CodeContestsCanonicalCppSolutionsPass) {
  SimServer sim({"--model", "m", "--script", canonical_replies(2, "cpp")});
  CommandResult r = run(sim, "code_contests_cpp");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(
      results_of(r)["results"]["code_contests_cpp"]["pass@1,extract_code"].get<double>(), 1.0);
}

TEST_F(CodeTasks, CodeContestsCanonicalJavaSolutionsPass) {
  if (std::string why = code_language_unavailable("java"); !why.empty())
    GTEST_SKIP() << "Java solutions not run: " << why;
  // One public class not named Main, one program of two package-private classes.
  SimServer sim({"--model", "m", "--script", canonical_replies(4, "java")});
  CommandResult r = run(sim, "code_contests_java");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json res = results_of(r)["results"]["code_contests_java"];
  EXPECT_DOUBLE_EQ(res["pass@1,extract_code"].get<double>(), 1.0) << res.dump();
}

TEST_F(CodeTasks, CodeContestsJavaThatFailsSaysWhy) {
  if (std::string why = code_language_unavailable("java"); !why.empty())
    GTEST_SKIP() << "Java solutions not run: " << why;
  // A program that does not compile and one that prints a wrong answer.
  SimServer sim({"--model", "m", "--script",
                 script({{{"pattern", "sum of two"},
                          {"reply", "```java\nclass Main { void f() { int x = \"no\"; } }\n```"}},
                         {{"pattern", "largest of"},
                          {"reply",
                           "```java\npublic class Main { public static void main(String[] a) "
                           "{ System.out.println(4); } }\n```"}}})});
  std::vector<std::string> args = {
      "run",           "--model",       "hosted_vllm/m",      "--base-url",
      sim.base_url(),  "--tasks",       "code_contests_java", "--confirm_run_unsafe_code",
      "--log_samples", "--output_path", dir_.file("out")};
  CommandResult r = run_retort(args, env(), 300);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_DOUBLE_EQ(
      results_of(r)["results"]["code_contests_java"]["pass@1,extract_code"].get<double>(), 0.0);
  std::string samples;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.file("out")))
    if (e.path().filename().string().rfind("samples_code_contests_java", 0) == 0)
      samples += read_text(e.path().string());
  EXPECT_NE(samples.find("compile: exit status 1: Main.java:1: error: incompatible types"),
            std::string::npos)
      << samples;
  // 4 is right on the first test (3 1 4) and wrong on the private one (-5 -2).
  EXPECT_NE(samples.find("test 2/2: wrong answer"), std::string::npos) << samples;
}

TEST_F(CodeTasks, Ds1000SkipsUnavailableLibrariesAndRunsTheRest) {
  if (!std::filesystem::exists("/usr/lib/python3/dist-packages/numpy"))
    GTEST_SKIP() << "python3-numpy is not installed";
  // PyTorch problems run where python3-torch is installed and are skipped otherwise.
  const bool torch = std::filesystem::exists("/usr/lib/python3/dist-packages/torch");
  SimServer sim({"--model", "m", "--script", ds1000_replies()});
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

TEST_F(CodeTasks, Ds1000RescoreCarriesTheSkipsLikeTheRun) {
  if (!std::filesystem::exists("/usr/lib/python3/dist-packages/numpy"))
    GTEST_SKIP() << "python3-numpy is not installed";
  const bool torch = std::filesystem::exists("/usr/lib/python3/dist-packages/torch");
  SimServer sim({"--model", "m", "--script", ds1000_replies()});
  const std::string db = dir_.file("runs.db");
  CommandResult live = run_retort(
      {"run", "--model", "hosted_vllm/m", "--base-url", sim.base_url(), "--tasks", "DS-1000",
       "--no_cache", "--confirm_run_unsafe_code", "--db", db, "--output_path", dir_.file("live")},
      env(), 300);
  ASSERT_EQ(live.exit_code, 0) << live.out << live.err;
  CommandResult again = run_retort({"rescore", "latest", "--db", db, "--confirm_run_unsafe_code",
                                    "--output_path", dir_.file("rescored")},
                                   env(), 300);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  Json a = results_of(live), b = results_of(again);
  ASSERT_TRUE(b.is_object()) << again.out;
  // The same skips, counted with their reasons, and the same docs scored.
  EXPECT_EQ(b["retort"]["skipped"], a["retort"]["skipped"]) << b["retort"].dump();
  EXPECT_EQ(b["retort"]["skipped"]["ds1000"][0],
            Json({{"count", 1}, {"reason", "Tensorflow: not available from Debian"}}));
  EXPECT_EQ(b["n-samples"], a["n-samples"]);
  EXPECT_DOUBLE_EQ(b["results"]["ds1000"]["pass@1,extract_code"].get<double>(), 1.0);
  // The rescore's score table says so as the run's did.
  const std::string row = torch ? "ds1000 (1 skipped)" : "ds1000 (2 skipped)";
  EXPECT_NE(live.out.find(row), std::string::npos) << live.out;
  EXPECT_NE(again.out.find(row), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("ds1000: 1 skipped: Tensorflow: not available from Debian"),
            std::string::npos)
      << again.out;
}

}  // namespace
}  // namespace retort::testing
