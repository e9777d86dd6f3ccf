// Start-up work in proportion to what was asked: `retort run --tasks FILE.yaml` reads that
// file (and its includes), not the YAML files that happen to share its directory tree, and
// an --include_path tree is parsed once, then read from the task index.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "support/test_support.h"

namespace retort::testing {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  write_text(path, text);
}

std::string task_text(const std::string& name, const std::string& data) {
  return "task: " + name +
         "\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: " + data +
         "\ntest_split: test\ndoc_to_text: \"Q: {{question}}\\nA:\"\ndoc_to_target: answer\n"
         "generation_kwargs:\n  until: [\"\\n\"]\n  max_gen_toks: 8\n";
}

// CI configs, manifests and broken YAML under dir: nothing retort should ever read.
void litter(const std::string& dir) {
  for (int i = 0; i < 30; ++i) {
    const std::string n = std::to_string(i);
    write(dir + "/ci/deep/wf" + n + ".yaml", "name: ci\non: [push]\njobs: {}\n");
    write(dir + "/k8s/m" + n + ".yml", "apiVersion: v1\nkind: Service\n");
    write(dir + "/bad/b" + n + ".yaml", "task: [unclosed\n  - : x\n");
  }
}

// "tasks: N YAML files indexed, M read" from a --verbosity DEBUG run.
std::pair<int, int> index_counts(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("tasks: (\\d+) YAML files indexed, (\\d+) read"))) {
    ADD_FAILURE() << "no task counts in:\n" << err;
    return {-1, -1};
  }
  return {std::stoi(m[1].str()), std::stoi(m[2].str())};
}

class RunTaskFiles : public ::testing::Test {
 protected:
  CommandResult run(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "run", "--model",    "hosted_vllm/m", "--base-url", sim_.base_url(), "--limit",
        "1",   "--no-cache", "--output_path", out_.path(),  "--verbosity",   "DEBUG"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_retort(args, {"XDG_CACHE_HOME=" + cache_.path(), "RETORT_TASK_INDEX=on"});
  }
  SimServer sim_{{"--model", "m"}};
  TempDir work_, out_, cache_;
};

TEST_F(RunTaskFiles, ATaskFileIsReadWithoutTheYamlFilesAroundIt) {
  write(work_.file("data.jsonl"), "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
  write(work_.file("_shared"), "output_type: generate_until\n");
  write(work_.file("mine.yaml"), "include: _shared\n" + task_text("mine", "data.jsonl"));
  write(work_.file("zz_broken.yaml"), "task: [oops\n");  // right beside it
  litter(work_.file("other"));
  auto r = run({"--tasks", work_.file("mine.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("reading " + work_.file("mine.yaml")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("reading " + work_.file("_shared")), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(work_.file("other")), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("zz_broken"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("warning:"), std::string::npos) << r.err;
  EXPECT_EQ(index_counts(r.err), std::make_pair(0, 2));
  EXPECT_FALSE(fs::exists(cache_.file("retort/task_index")));  // nothing was indexed
}

TEST_F(RunTaskFiles, AnIncludePathIsParsedOnceAndItsBrokenFilesAreNotErrors) {
  write(work_.file("tree/data.jsonl"), "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
  for (int i = 0; i < 20; ++i)
    write(work_.file("tree/b" + std::to_string(i % 4) + "/t" + std::to_string(i) + ".yaml"),
          task_text("t" + std::to_string(i), "../data.jsonl"));
  litter(work_.file("tree"));
  const std::vector<std::string> args = {"--tasks", "t7", "--include_path", work_.file("tree")};
  auto first = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.err.find("warning:"), std::string::npos) << first.err;
  const int files = 20 + 90;
  EXPECT_GE(index_counts(first.err).first, files);  // and the built-in tasks
  EXPECT_GE(index_counts(first.err).second, files);
  auto second = run(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("/bad/"), std::string::npos) << second.err;
  // The built-in tasks are indexed too; of all the files only t7 was read again.
  EXPECT_GE(index_counts(second.err).first, files);
  EXPECT_EQ(index_counts(second.err).second, 1);
}

TEST_F(RunTaskFiles, ABrokenFileNamedDirectlyIsStillAnError) {
  write(work_.file("bad.yaml"), "task: bad\ndoc_to_choice: [a, b\n");
  auto r = run({"--tasks", work_.file("bad.yaml")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("YAML syntax error"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace retort::testing
