// A task's dataset_kwargs.revision (and dataset_revision) pins the Hub commit its docs come
// from: with two commits on the Hub, the pinned one is read, not the branch head.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/fake_hub.h"
#include "data/hub.h"
#include "prompt/prompt.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace retort {
namespace {

using testing::FakeHub;
using testing::TempDir;
using testing::write_text;

TEST(TaskRevision, PinnedCommitIsReadInsteadOfMain) {
  FakeHub hub;
  TempDir home, dir;
  setenv("HF_ENDPOINT", hub.endpoint().c_str(), 1);
  setenv("HF_HOME", home.path().c_str(), 1);
  for (const char* v : {"HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"})
    unsetenv(v);
  hub_forget_resolved_revisions();
  const std::string old_sha =
      hub.add_commit("acme/qa", {{"data/test.jsonl", "{\"q\": \"old\", \"a\": \"1\"}\n"}});
  hub.add_commit("acme/qa", {{"data/test.jsonl", "{\"q\": \"new\", \"a\": \"2\"}\n"}});
  const std::string base =
      "dataset_path: acme/qa\ntest_split: test\noutput_type: "
      "generate_until\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n";
  write_text(dir.file("pinned.yaml"),
             "task: pinned\n" + base + "dataset_kwargs:\n  revision: " + old_sha + "\n");
  write_text(dir.file("pinned2.yaml"),
             "task: pinned2\n" + base + "dataset_revision: " + old_sha + "\n");
  write_text(dir.file("head.yaml"), "task: head\n" + base);
  for (const char* f : {"pinned.yaml", "pinned2.yaml"}) {
    TaskDocs docs = load_task_docs(load_task_file(dir.file(f)), 0);
    ASSERT_EQ(docs.eval.size(), 1u) << f;
    EXPECT_EQ(docs.eval[0]["q"], "old") << f;
  }
  TaskDocs head = load_task_docs(load_task_file(dir.file("head.yaml")), 0);
  ASSERT_EQ(head.eval.size(), 1u);
  EXPECT_EQ(head.eval[0]["q"], "new");
  unsetenv("HF_ENDPOINT");
  unsetenv("HF_HOME");
}

}  // namespace
}  // namespace retort
