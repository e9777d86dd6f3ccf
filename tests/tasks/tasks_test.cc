// Task specs in lm-eval's YAML dialect: include, groups, tags, !function, errors that name
// file:line, and the registry's name resolution.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "support/test_support.h"
#include "tasks/tasks.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;
using testing::write_text;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(TaskSpec, IncludeIsRecursiveAndLocalKeysWin) {
  TempDir dir;
  write_text(dir.file("_root"),
             "output_type: multiple_choice\ndoc_to_choice: [a, b]\n"
             "target_delimiter: ':'\ndescription: root\n");
  write_text(dir.file("_mid"), "include: _root\ndescription: mid\ntest_split: test\n");
  write_text(dir.file("t.yaml"), "include: _mid\ntask: t\ndescription: local\ndoc_to_text: q\n");
  TaskSpec t = load_task_file(dir.file("t.yaml"));
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.description, Json("local"));
  EXPECT_EQ(t.target_delimiter, ":");
  EXPECT_EQ(t.output_type, OutputType::kMultipleChoice);
  EXPECT_EQ(t.test_split, std::optional<std::string>("test"));
  EXPECT_EQ(t.where("target_delimiter"), dir.path() + "/_root:3");
  EXPECT_EQ(t.where("description"), dir.path() + "/t.yaml:3");
  EXPECT_FALSE(t.config.contains("include"));
}

TEST(TaskSpec, PyYamlScalarTypes) {
  TempDir dir;
  write_text(dir.file("t.yaml"),
             "task: t\ntest_split: test\ngeneration_kwargs:\n  a: 1e-5\n  b: 1.0e-5\n  c: yes\n"
             "  d: '7'\n  e: 7\n  f: ~\n");
  TaskSpec t = load_task_file(dir.file("t.yaml"));
  const Json& g = t.generation_kwargs;
  EXPECT_TRUE(g["a"].is_string());
  EXPECT_TRUE(g["b"].is_number_float());
  EXPECT_EQ(g["c"], Json(true));
  EXPECT_EQ(g["d"], Json("7"));
  EXPECT_EQ(g["e"], Json(7));
  EXPECT_TRUE(g["f"].is_null());
}

TEST(TaskSpec, YamlSyntaxErrorNamesFileAndLine) {
  TempDir dir;
  write_text(dir.file("bad.yaml"), "task: t\ndoc_to_text: [1,\ntest_split: test\n");
  std::string m = error_of([&] { load_task_file(dir.file("bad.yaml")); });
  EXPECT_NE(m.find("YAML syntax error"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:"), std::string::npos) << m;
}

TEST(TaskSpec, PythonFunctionIsAClearError) {
  TempDir dir;
  write_text(
      dir.file("f.yaml"),
      "task: f\ntest_split: test\ndoc_to_text: q\nprocess_docs: !function utils.process_docs\n");
  std::string m = error_of([&] { load_task_file(dir.file("f.yaml")); });
  EXPECT_NE(m.find("f.yaml:4"), std::string::npos) << m;
  EXPECT_NE(m.find("utils.process_docs"), std::string::npos) << m;
  EXPECT_NE(m.find("process_docs"), std::string::npos) << m;
  // Another folder's utils.process_docs is not one of the built-ins, which are listed.
  EXPECT_NE(m.find("hellaswag/utils.process_docs"), std::string::npos) << m;
}

// Filter and metric functions are lm-eval's only in their own folder: humaneval's
// build_predictions in some other task's file is an error naming the key, and
// humaneval's pass_at_k without its `k` says what to write.
TEST(TaskSpec, FilterAndMetricFunctionsOnlyFromTheirFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("mine"));
  std::filesystem::create_directories(dir.file("humaneval"));
  const std::string head =
      "task: c\ntest_split: test\ndoc_to_text: q\noutput_type: generate_until\n";
  write_text(dir.file("mine/c.yaml"),
             head +
                 "filter_list:\n  - name: x\n    filter:\n      - function: custom\n"
                 "        filter_fn: !function utils.build_predictions\n");
  std::string m = error_of([&] { load_task_file(dir.file("mine/c.yaml")); });
  EXPECT_NE(m.find("filter_list.filter_fn"), std::string::npos) << m;
  EXPECT_NE(m.find("utils.build_predictions is Python code"), std::string::npos) << m;
  // pass_at_k exists only in humaneval/: a unique name elsewhere is still not taken.
  write_text(dir.file("mine/p.yaml"),
             head + "metric_list:\n  - metric: !function utils.pass_at_k\n    k: [1]\n");
  m = error_of([&] { load_task_file(dir.file("mine/p.yaml")); });
  EXPECT_NE(m.find("metric_list.metric: !function utils.pass_at_k is Python code"),
            std::string::npos)
      << m;

  write_text(dir.file("humaneval/c.yaml"),
             head + "metric_list:\n  - metric: !function utils.pass_at_k\n");
  m = error_of([&] { load_task_file(dir.file("humaneval/c.yaml")); });
  EXPECT_NE(m.find("pass_at_k needs 'k'"), std::string::npos) << m;
  EXPECT_NE(m.find("task 'c'"), std::string::npos) << m;

  write_text(dir.file("humaneval/k.yaml"),
             head + "metric_list:\n  - metric: !function utils.pass_at_k\n    k: [1, 10]\n");
  TaskSpec t = load_task_file(dir.file("humaneval/k.yaml"));
  ASSERT_EQ(t.metric_list.size(), 2u) << t.metric_list.dump();
  EXPECT_EQ(t.metric_list[1]["metric"], "pass@10");
  EXPECT_EQ(t.metric_list[1]["language"], "python");
}

TEST(TaskSpec, BuiltinFunctionIsAccepted) {
  TempDir dir;
  write_text(dir.file("h.yaml"),
             "task: h\ntest_split: test\ndoc_to_text: query\n"
             "process_docs: !function retort.hellaswag_process_docs\n");
  TaskSpec t = load_task_file(dir.file("h.yaml"));
  EXPECT_EQ(t.process_docs, "hellaswag/utils.process_docs");  // the old name still works
  const DocProcessor* fn = find_builtin_process_docs(t.process_docs);
  ASSERT_NE(fn, nullptr);
  std::vector<Doc> docs = {Doc{{"activity_label", "Baking"},
                               {"ctx_a", "A man [header] mixes flour."},
                               {"ctx_b", "then HE"},
                               {"endings", {" adds  eggs.", "sings [title] loudly"}},
                               {"label", "0"}}};
  docs = (*fn)(docs);
  EXPECT_EQ(docs[0]["query"], Json("Baking: A man mixes flour. Then he"));
  EXPECT_EQ(docs[0]["choices"], Json({"adds eggs.", "sings. loudly"}));
  EXPECT_EQ(docs[0]["gold"], Json(0));
}

TEST(TaskSpec, UnknownKeyIsAWarningNamingFileAndLine) {
  TempDir dir;
  write_text(dir.file("u.yaml"), "task: u\ntest_split: test\ndoc_to_txt: q\n");
  ::testing::internal::CaptureStderr();
  load_task_file(dir.file("u.yaml"));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("u.yaml:3"), std::string::npos) << err;
  EXPECT_NE(err.find("doc_to_txt"), std::string::npos) << err;
  EXPECT_NE(err.find("doc_to_text"), std::string::npos) << err;  // the suggestion
}

TEST(TaskSpec, BadOutputTypeNamesTheLine) {
  TempDir dir;
  write_text(dir.file("o.yaml"), "task: o\ntest_split: test\noutput_type: generate\n");
  std::string m = error_of([&] { load_task_file(dir.file("o.yaml")); });
  EXPECT_NE(m.find("o.yaml:3"), std::string::npos) << m;
  EXPECT_NE(m.find("output_type"), std::string::npos) << m;
}

class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_.file("a.yaml"),
               "task: Alpha_One\ntag: [letters]\ntest_split: test\ndoc_to_text: q\n");
    write_text(dir_.file("b.yaml"),
               "task: alpha_two\ntag: letters\ntest_split: test\ndoc_to_text: q\n");
    std::filesystem::create_directories(dir_.file("sub"));
    write_text(dir_.file("sub/g.yaml"),
               "group: grp\ntask:\n  - alpha_one\n  - task: alpha_two\n    num_fewshot: 3\n"
               "  - task: inline_t\n    test_split: test\n    doc_to_text: q\n"
               "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: false\n");
    write_text(dir_.file("broken.yaml"), "task: [oops\n");
    reg_.add_dir(dir_.path());
  }
  TempDir dir_;
  TaskRegistry reg_;
};

TEST_F(Registry, NamesAreCaseInsensitive) {
  Selection s = reg_.select({"ALPHA_one"});
  ASSERT_EQ(s.tasks.size(), 1u);
  EXPECT_EQ(s.tasks[0].name, "Alpha_One");
}

TEST_F(Registry, GlobsAndTags) {
  EXPECT_EQ(reg_.select({"alpha_*"}).tasks.size(), 2u);
  Selection s = reg_.select({"letters"});
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.roots.size(), 2u);  // a tag expands to its tasks, no group node
}

TEST_F(Registry, GroupWithOverridesAndInlineTasks) {
  Selection s = reg_.select({"grp"});
  ASSERT_EQ(s.roots.size(), 1u);
  ASSERT_TRUE(s.roots[0].is_group);
  ASSERT_EQ(s.roots[0].children.size(), 3u);
  ASSERT_EQ(s.tasks.size(), 3u);
  EXPECT_EQ(s.tasks[1].name, "alpha_two");
  EXPECT_EQ(s.tasks[1].num_fewshot, std::optional<int>(3));
  EXPECT_EQ(s.tasks[2].name, "inline_t");
  EXPECT_FALSE(s.roots[0].group->aggregate_metric_list.is_null());
}

TEST_F(Registry, UnknownNameSuggestsCloseNames) {
  std::string m = error_of([&] { reg_.select({"alpha_too"}); });
  EXPECT_NE(m.find("unknown task 'alpha_too'"), std::string::npos) << m;
  EXPECT_NE(m.find("alpha_two"), std::string::npos) << m;
}

TEST_F(Registry, YamlFileAndDirectoryPaths) {
  Selection f = reg_.select({dir_.file("sub/g.yaml")});
  ASSERT_EQ(f.roots.size(), 1u);
  EXPECT_TRUE(f.roots[0].is_group);
  TempDir d2;
  write_text(d2.file("x.yaml"), "task: x_task\ntest_split: test\ndoc_to_text: q\n");
  write_text(d2.file("y.yaml"), "task: y_task\ntest_split: test\ndoc_to_text: q\n");
  write_text(d2.file("g.yaml"), "group: xy\ntask: [x_task]\n");
  Selection d = TaskRegistry().select({d2.path()});
  // The group and the task that is not in it; x_task appears once, inside the group.
  ASSERT_EQ(d.roots.size(), 2u);
  EXPECT_EQ(d.tasks.size(), 2u);
}

TEST_F(Registry, BrokenFileReportedWhenNamedDirectly) {
  std::string m = error_of([&] { reg_.select({dir_.file("broken.yaml")}); });
  EXPECT_NE(m.find("broken.yaml:"), std::string::npos) << m;
}

}  // namespace
}  // namespace retort

namespace retort {
namespace {

TEST(TaskSpec, FunctionNamesResolveByTheFolderOfTheTaskFile) {
  TempDir root;
  std::filesystem::create_directories(root.file("super_glue/copa"));
  write_text(root.file("super_glue/copa/default.yaml"),
             "task: c\ntest_split: test\noutput_type: multiple_choice\n"
             "doc_to_text: !function utils.doc_to_text\n"
             "doc_to_target: !function utils.doc_to_target\n"
             "doc_to_choice: !function utils.doc_to_choice\n");
  TaskSpec t = load_task_file(root.file("super_glue/copa/default.yaml"));
  EXPECT_EQ(t.doc_to_text, Json({{"!function", "super_glue/copa/utils.doc_to_text"}}));
  EXPECT_EQ(t.doc_to_choice, Json({{"!function", "super_glue/copa/utils.doc_to_choice"}}));
  // A module name only one benchmark has resolves wherever the file is.
  write_text(root.file("w.yaml"),
             "task: w\ntest_split: test\noutput_type: multiple_choice\n"
             "doc_to_text: !function preprocess_winogrande.doc_to_text\n"
             "doc_to_choice: !function preprocess_winogrande.doc_to_choice\n");
  EXPECT_EQ(load_task_file(root.file("w.yaml")).doc_to_text,
            Json({{"!function", "winogrande/preprocess_winogrande.doc_to_text"}}));
  // utils.doc_to_text outside a known folder is ambiguous: an error naming the line.
  write_text(root.file("x.yaml"),
             "task: x\ntest_split: test\ndoc_to_text: !function utils.doc_to_text\n");
  std::string m = error_of([&] { load_task_file(root.file("x.yaml")); });
  EXPECT_NE(m.find("x.yaml:3"), std::string::npos) << m;
  // description cannot be a function.
  write_text(root.file("d.yaml"),
             "task: d\ntest_split: test\ndoc_to_text: q\n"
             "description: !function preprocess_winogrande.doc_to_text\n");
  EXPECT_NE(error_of([&] { load_task_file(root.file("d.yaml")); }).find("Python code"),
            std::string::npos);
}

}  // namespace
}  // namespace retort
