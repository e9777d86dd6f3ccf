// Code extraction (lm-eval's humaneval/mbpp build_predictions, DS-1000's postprocess) and
// pass@k over programs run in the sandbox.
#include "scoring/code_exec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "scoring/pass_at_k.h"
#include "util/error.h"

namespace retort {
namespace {

TEST(CodeExtract, HumanEvalAppendsTheCompletionToThePrompt) {
  Doc doc = {{"prompt", "def f(x):\n"}};
  EXPECT_EQ(extract_code("humaneval", "    return x\n", doc), "def f(x):\n    return x\n");
  // "```python\n" is removed wherever it is; "\n▁▁" runs become spaces (clean_text).
  EXPECT_EQ(extract_code("humaneval", "```python\n    return x", doc), "def f(x):\n    return x");
  EXPECT_EQ(extract_code("humaneval", "\n\xE2\x96\x81\xE2\x96\x81return x", doc),
            "def f(x):\n\n  return x");
}

TEST(CodeExtract, HumanEvalInstructCutsAtTheFirstFence) {
  Doc doc = {{"prompt", "def f(x):\n"}};
  EXPECT_EQ(extract_code("humaneval_instruct", "    return x\n```\nExplanation", doc),
            "def f(x):\n    return x\n");
  EXPECT_EQ(extract_code("humaneval_instruct", "    return x", doc), "def f(x):\n    return x");
}

TEST(CodeExtract, MbppTakesTheFirstBlockOfFencePlusReply) {
  const std::string fut = "from __future__ import annotations\n";
  // The reply continues an opened ```python fence (the instruct gen_prefix). lm-eval's
  // pattern lets (?:\w+)? eat the reply's first word as if it were a language tag, exactly
  // as Python's re does: "def f()" loses "def".
  EXPECT_EQ(extract_code("mbpp", "def f():\n    pass\n```\ntext", Doc::object()),
            fut + " f():\n    pass");
  EXPECT_EQ(extract_code("mbpp", "\ndef f():\n    pass\n```", Doc::object()),
            fut + "def f():\n    pass");
  // No closing fence: the whole reply.
  EXPECT_EQ(extract_code("mbpp", "def f():\n    pass\n", Doc::object()),
            fut + "def f():\n    pass\n");
  // lm-eval prepends ``` before matching, so a reply that opens its own fence yields the
  // empty block between the two openings (kept as lm-eval scores it).
  EXPECT_EQ(extract_code("mbpp", "```python\ndef f(): pass\n```", Doc::object()), fut);
}

TEST(CodeExtract, Ds1000AndFenced) {
  EXPECT_EQ(extract_code("ds1000", "<code>result = 1\n</code>\nmore", Doc::object()),
            "result = 1\n");
  EXPECT_EQ(extract_code("ds1000", "result = 1\nEND SOLUTION\nx", Doc::object()), "result = 1");
  EXPECT_EQ(extract_code("fenced", "Sure:\n```python\nprint(1)\n```\nand ```x```", Doc::object()),
            "print(1)\n");
  EXPECT_EQ(extract_code("fenced", "print(2)", Doc::object()), "print(2)");
}

TEST(CodeMetric, Names) {
  EXPECT_TRUE(is_code_metric("pass@1"));
  EXPECT_TRUE(is_code_metric("pass@64"));
  EXPECT_FALSE(is_code_metric("pass@0"));
  EXPECT_FALSE(is_code_metric("pass@"));
  EXPECT_FALSE(is_code_metric("pass@1x"));
  EXPECT_FALSE(is_code_metric("exact_match"));
}

class CodeScore : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = sandbox_unavailable_reason();
    if (!why.empty() && std::getenv("RETORT_SKIP_SANDBOX_TESTS")) GTEST_SKIP() << why;
    ASSERT_EQ(why, "");
  }
};

TEST_F(CodeScore, PassAtKMatchesTheEstimatorOverRunVerdicts) {
  // 5 programs against assert-style tests, 2 of them right.
  std::vector<MetricSpec> specs = {{"pass@1", "mean", true, Json{{"language", "python"}}},
                                   {"pass@2", "mean", true, Json{{"language", "python"}}},
                                   {"pass@5", "mean", true, Json{{"language", "python"}}},
                                   {"pass@6", "mean", true, Json{{"language", "python"}}}};
  Json programs = {"def f(x): return x + 1", "def f(x): return x", "def f(x): return x + 1",
                   "def f(x): raise ValueError('no')", "while True: pass"};
  CodeScoringOptions opts;
  opts.workers = 5;
  Json details;
  Json out = score_code(specs, programs, "assert f(1) == 2", opts, &details);
  EXPECT_DOUBLE_EQ(out["pass@1"].get<double>(), pass_at_k(5, 2, 1));
  EXPECT_DOUBLE_EQ(out["pass@1"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(out["pass@2"].get<double>(), 1.0 - 3.0 / 10.0);  // 1 - C(3,2)/C(5,2)
  EXPECT_DOUBLE_EQ(out["pass@5"].get<double>(), 1.0);
  EXPECT_FALSE(out.contains("pass@6"));  // n < k: undefined, left out
  ASSERT_EQ(details.size(), 5u);
  EXPECT_EQ(details[0]["verdict"], "pass");
  EXPECT_EQ(details[1]["verdict"], "fail");
  EXPECT_NE(details[3]["reason"].get<std::string>().find("ValueError: no"), std::string::npos);
  EXPECT_EQ(details[4]["verdict"], "timeout");
}

TEST(JavaEntry, FileFromThePublicClassAndMainFromTheClassThatDeclaresIt) {
  JavaEntry e = java_entry(
      "import java.util.*;\npublic class Solution {\n"
      "  public static void main(String[] a) {}\n}\n");
  EXPECT_EQ(e.file, "Solution.java");
  EXPECT_EQ(e.main_class, "Solution");
  // No public class: any file name works; main is in the second class.
  e = java_entry(
      "class Helper { int f() { return 1; } }\nclass Runner {\n"
      "  static public void main (String... a) {}\n}\n");
  EXPECT_EQ(e.file, "Main.java");
  EXPECT_EQ(e.main_class, "Runner");
  // Comments and strings that look like declarations are not; a nested class with main
  // is not top-level; the package prefixes the class.
  e = java_entry(
      "package contest.a;\n/* public class Fake { void main(String[] a) {} } */\n"
      "// public class Other {\npublic final class Real {\n"
      "  String s = \"public class Str { void main() {\";\n"
      "  char c = '{';\n"
      "  static class Inner { public static void main(String[] a) {} }\n"
      "  public static void main(String[] a) {}\n}\n");
  EXPECT_EQ(e.file, "Real.java");
  EXPECT_EQ(e.main_class, "contest.a.Real");
  // Nothing recognisable: Main.java, class Main (javac says what is wrong).
  e = java_entry("int x;");
  EXPECT_EQ(e.file, "Main.java");
  EXPECT_EQ(e.main_class, "Main");
}

TEST(JavaFlags, SizedToTheAddressSpaceLimit) {
  SandboxLimits l;
  l.memory_bytes = int64_t{4} << 30;
  std::vector<std::string> f = java_flags(l);
  auto has = [&](const std::string& x) { return std::find(f.begin(), f.end(), x) != f.end(); };
  EXPECT_TRUE(has("-Xmx2048m"));
  EXPECT_TRUE(has("-Xss32m"));
  EXPECT_TRUE(has("-XX:+UseSerialGC"));
  EXPECT_TRUE(has("-XX:ActiveProcessorCount=1"));
  l.memory_bytes = int64_t{16} << 30;
  f = java_flags(l);
  EXPECT_TRUE(has("-Xmx8192m"));
  EXPECT_TRUE(has("-Xss64m"));  // at most 64 MiB
}

TEST(CodeLanguages, UnknownLanguageIsUnavailableWithTheSupportedOnes) {
  EXPECT_EQ(code_language_unavailable("rust"),
            "language 'rust' is not supported (python, cpp, java)");
  EXPECT_EQ(code_language_unavailable("python"), "");  // the test machine has python3
  CodeJob job;
  job.language = "rust";
  job.source = "fn main() {}";
  CodeVerdict v = check_program(job);
  EXPECT_EQ(v.verdict, Verdict::kError);
  EXPECT_EQ(v.reason, "language 'rust' is not supported (python, cpp, java)");
}

TEST(EvalchemyCodeResults, KeysAndValuesPerStyle) {
  // Three problems with 12 programs each (3, 0 and 12 passing) and one with only 10.
  std::vector<std::pair<int64_t, int64_t>> n_c = {{12, 3}, {12, 0}, {12, 12}, {10, 5}};
  const double p1 = (3.0 / 12 + 0 + 1 + 0.5) / 4;
  const double p10 = (pass_at_k(12, 3, 10) + 0 + 1 + pass_at_k(10, 5, 10)) / 4;
  Json he = evalchemy_code_results(n_c, "humaneval", 4);
  EXPECT_DOUBLE_EQ(he["python_pass@1"].get<double>(), p1);
  EXPECT_DOUBLE_EQ(he["python_pass@10"].get<double>(), p10);
  EXPECT_FALSE(he.contains("python_pass@100"));  // not every problem has 100 programs
  EXPECT_EQ(he.size(), 2u) << he.dump();
  Json plus = evalchemy_code_results(n_c, "mbpp_plus", 4);
  EXPECT_DOUBLE_EQ(plus["pass@1"].get<double>(), p1);
  EXPECT_EQ(plus.size(), 2u) << plus.dump();
  // MBPP also counts the problems scored against those planned.
  Json mbpp = evalchemy_code_results({{1, 1}, {1, 0}, {1, 1}}, "mbpp", 4);
  EXPECT_DOUBLE_EQ(mbpp["pass@1"].get<double>(), 2.0 / 3);
  EXPECT_FALSE(mbpp.contains("pass@10"));
  EXPECT_EQ(mbpp["num_examples"], 3);
  EXPECT_DOUBLE_EQ(mbpp["completion_rate"].get<double>(), 0.75);
  // Fewer than 10 programs on one problem drops pass@10 for all.
  EXPECT_FALSE(
      evalchemy_code_results({{10, 1}, {9, 1}}, "humaneval", 2).contains("python_pass@10"));
  EXPECT_TRUE(evalchemy_code_results({}, "humaneval", 0).empty());
  EXPECT_THROW(evalchemy_code_results(n_c, "repeats", 4), Error);
}

TEST_F(CodeScore, StdinTestsFromTheTarget) {
  std::vector<MetricSpec> specs = {{"pass@1", "mean", true, Json{{"language", "python"}}}};
  Json gold = {{"input", {"1 2\n", "3 4\n"}}, {"output", {"3\n", "7\n"}}};
  CodeScoringOptions opts;
  EXPECT_DOUBLE_EQ(score_code(specs, "print(sum(map(int, input().split())))", gold, opts)["pass@1"]
                       .get<double>(),
                   1.0);
  EXPECT_DOUBLE_EQ(score_code(specs, "print(3)", gold, opts)["pass@1"].get<double>(), 0.0);
}

class MemoryCache : public VerdictCache {
 public:
  bool get(const std::string& key, CodeVerdict& out) override {
    auto it = m.find(key);
    if (it == m.end()) return false;
    out = it->second;
    ++hits;
    return true;
  }
  void put(const std::string& key, const CodeVerdict& v) override { m[key] = v; }
  std::map<std::string, CodeVerdict> m;
  int hits = 0;
};

TEST_F(CodeScore, VerdictsComeFromTheCacheTheSecondTime) {
  std::vector<MetricSpec> specs = {{"pass@1", "mean", true, Json{{"language", "python"}}}};
  MemoryCache cache;
  CodeScoringOptions opts;
  opts.cache = &cache;
  EXPECT_DOUBLE_EQ(score_code(specs, "x = 1", "assert x == 1", opts)["pass@1"].get<double>(), 1.0);
  EXPECT_EQ(cache.m.size(), 1u);
  EXPECT_EQ(cache.hits, 0);
  // A stored verdict wins over running: flip it and see it come back.
  cache.m.begin()->second.verdict = Verdict::kFail;
  EXPECT_DOUBLE_EQ(score_code(specs, "x = 1", "assert x == 1", opts)["pass@1"].get<double>(), 0.0);
  EXPECT_EQ(cache.hits, 1);
  // Another program is another key.
  score_code(specs, "x = 2", "assert x == 1", opts);
  EXPECT_EQ(cache.m.size(), 2u);
}

}  // namespace
}  // namespace retort
