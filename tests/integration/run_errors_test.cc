// Bad input to `retort run`: each mistake gets one clear message naming where it is (file
// and line, task, doc index, field, flag) and exit status 2. None of these needs a server:
// the run plans everything before it talks to one.
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace retort::testing {
namespace {

class RunErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_.file("data.jsonl"),
               "{\"question\": \"q0\", \"answer\": \"a0\"}\n"
               "{\"question\": \"q1\", \"answer\": \"a1\"}\n");
    write_text(dir_.file("empty.jsonl"), "");
  }
  // A task file over data.jsonl with extra lines.
  std::string task(const std::string& name, const std::string& extra) {
    std::string path = dir_.file(name + ".yaml");
    write_text(path,
               "task: " + name +
                   "\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: data.jsonl\n"
                   "test_split: test\n" +
                   extra);
    return path;
  }
  CommandResult run(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "run", "--model", "hosted_vllm/m", "--base-url", "http://127.0.0.1:9/v1", "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_retort(args);
  }
  TempDir dir_;
};

TEST_F(RunErrors, YamlSyntaxErrorNamesFileAndLine) {
  write_text(dir_.file("bad.yaml"),
             "task: bad\ntest_split: test\ndoc_to_choice: [a, b\ndoc_to_text: q\n");
  auto r = run({"--tasks", dir_.file("bad.yaml")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("YAML syntax error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << r.err;
}

TEST_F(RunErrors, TemplateErrorNamesTaskDocAndField) {
  auto r = run({"--tasks", task("tpl",
                                "doc_to_text: \"Q: {{ question | nosuchfilter }}\"\n"
                                "doc_to_target: answer\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("task 'tpl'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("doc 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("doc_to_text"), std::string::npos) << r.err;
}

TEST_F(RunErrors, MissingColumnListsTheColumns) {
  auto r =
      run({"--tasks", task("col", "doc_to_text: \"Q: {{questoin}}\"\ndoc_to_target: answer\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("questoin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("question, answer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("doc 0"), std::string::npos) << r.err;
}

TEST_F(RunErrors, UnsupportedFunctionNamesFileLineAndFunction) {
  auto r = run({"--tasks", task("fn",
                                "doc_to_text: question\ndoc_to_target: answer\n"
                                "process_results: !function utils.process_results\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("fn.yaml:9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("!function utils.process_results"), std::string::npos) << r.err;
}

TEST_F(RunErrors, UnknownTaskSuggestsCloseNames) {
  auto r = run({"--tasks", "demo_arth", "--include_path", source_dir() + "/examples"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown task 'demo_arth'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("demo_arith"), std::string::npos) << r.err;
}

TEST_F(RunErrors, EmptyDatasetIsNamed) {
  write_text(
      dir_.file("empty.yaml"),
      "task: empty\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: empty.jsonl\n"
      "test_split: test\ndoc_to_text: question\ndoc_to_target: answer\n");
  auto r = run({"--tasks", dir_.file("empty.yaml")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("no docs") != std::string::npos ||
              r.err.find("no rows") != std::string::npos ||
              r.err.find("is empty") != std::string::npos)
      << r.err;
}

TEST_F(RunErrors, BadLimitSaysItCountsDocsPerTask) {
  for (const char* bad : {"abc", "-1", "0", "2.5"}) {
    auto r = run(
        {"--tasks", task("lim", "doc_to_text: question\ndoc_to_target: answer\n"), "--limit", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--limit"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("docs per task"), std::string::npos) << r.err;
  }
}

TEST_F(RunErrors, HelpSaysLimitIsDocsNotTasks) {
  auto r = run_retort({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("PER TASK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limits docs, not the number of tasks"), std::string::npos) << r.out;
}

TEST_F(RunErrors, UnknownFlagSuggestsTheRightOne) {
  auto r = run_retort({"run", "--num_fewshots", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--num_fewshot"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace retort::testing
