// Start-up work in proportion to what was asked: a task file named by path reads only
// itself, its includes and the members a group file names; indexing a directory keeps an
// on-disk index keyed by path, size and mtime, so unchanged files are not parsed again.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iterator>
#include <string>

#include "support/test_support.h"
#include "tasks/tasks.h"
#include "util/error.h"

namespace retort {
namespace {

namespace fs = std::filesystem;
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

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  write_text(path, text);
}

std::string task_text(const std::string& name, const std::string& extra = "") {
  return "task: " + name + "\ntest_split: test\ndoc_to_text: q\n" + extra;
}

// Unrelated YAML (a CI workflow) and broken YAML, many of each, under dir.
void litter(const std::string& dir, int n) {
  for (int i = 0; i < n; ++i) {
    write(dir + "/ci/wf" + std::to_string(i) + ".yaml", "name: ci\non: [push]\njobs: {}\n");
    write(dir + "/bad/b" + std::to_string(i) + ".yml", "steps: [unclosed\n  - : x\n");
  }
}

// Sets an environment variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty())
      unsetenv(name_);
    else
      setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

TEST(NamedTaskFile, ReadsOnlyItselfAndItsIncludes) {
  TempDir dir, builtin;
  write(builtin.file("b.yaml"), task_text("builtin_task"));
  write(dir.file("_base"), "test_split: test\ndoc_to_text: q\n");
  write(dir.file("mine.yaml"), "include: _base\ntask: mine\n");
  litter(dir.path(), 20);
  TaskRegistry reg;
  reg.add_dir(builtin.path());
  Selection s = reg.select({dir.file("mine.yaml")});
  ASSERT_EQ(s.tasks.size(), 1u);
  EXPECT_EQ(s.tasks[0].name, "mine");
  EXPECT_EQ(s.tasks[0].doc_to_text, Json("q"));
  // The file and its include; neither the 40 files beside it nor the built-in directory.
  EXPECT_EQ(reg.stats().yaml_files_read, 2u);
  EXPECT_EQ(reg.stats().yaml_files_indexed, 0u);
}

TEST(NamedTaskFile, GroupMembersComeFromTheIndexThenBesideTheGroup) {
  TempDir dir, builtin;
  write(builtin.file("b.yaml"), task_text("builtin_task"));
  write(dir.file("g/grp.yaml"),
        "group: grp\ntask:\n  - builtin_task\n  - sibling\n  - task: sibling2\n"
        "    num_fewshot: 2\n");
  write(dir.file("g/s.yaml"), task_text("sibling"));
  write(dir.file("g/s2.yaml"), task_text("sibling2"));
  write(dir.file("g/broken.yaml"), "task: [oops\n");
  litter(dir.path(), 20);  // beside g/, not in it
  TaskRegistry reg;
  reg.add_dir(builtin.path());
  Selection s = reg.select({dir.file("g/grp.yaml")});
  ASSERT_EQ(s.tasks.size(), 3u);
  EXPECT_EQ(s.tasks[0].name, "builtin_task");
  EXPECT_EQ(s.tasks[1].name, "sibling");
  EXPECT_EQ(s.tasks[2].num_fewshot, std::optional<int>(2));
  // The built-in directory and g/ were indexed when a member was looked up; the litter
  // beside g/ was not.
  EXPECT_EQ(reg.stats().yaml_files_indexed, 1u + 4u);
}

TEST(NamedTaskFile, GroupMemberFoundNowhereNamesTheGroupFile) {
  TempDir dir;
  write(dir.file("grp.yaml"), "group: grp\ntask: [no_such_task]\n");
  std::string m = error_of([&] { TaskRegistry().select({dir.file("grp.yaml")}); });
  EXPECT_NE(m.find("unknown task 'no_such_task'"), std::string::npos) << m;
  EXPECT_NE(m.find("grp.yaml:2"), std::string::npos) << m;
}

TEST(NamedTaskFile, NothingIsIndexedUntilANameIsLookedUp) {
  TempDir builtin;
  write(builtin.file("a.yaml"), task_text("a_task"));
  write(builtin.file("b.yaml"), task_text("b_task"));
  TaskRegistry reg;
  reg.add_dir(builtin.path());
  EXPECT_EQ(reg.stats().yaml_files_indexed, 0u);
  EXPECT_EQ(reg.select({"b_task"}).tasks.size(), 1u);
  EXPECT_EQ(reg.stats().yaml_files_indexed, 2u);
}

class IndexCache : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 5; ++i)
      write(tasks_.file("t" + std::to_string(i) + ".yaml"),
            "include: _tmpl\ntask: t" + std::to_string(i) + "\n");
    write(tasks_.file("_tmpl"), "test_split: test\ndoc_to_text: q\ntag: ts\n");
    write(tasks_.file("broken.yaml"), "task: [oops\n");
  }
  TaskRegistry::Stats index_once(const std::string& name = "t0", size_t tasks = 1) {
    TaskRegistry reg;
    reg.enable_index_cache();
    reg.add_dir(tasks_.path());
    EXPECT_EQ(reg.select({name}).tasks.size(), tasks);
    return reg.stats();
  }
  // Rewrites a file with new content and an mtime 10 s later, so a change is seen even on
  // file systems with coarse timestamps.
  void touch(const std::string& path, const std::string& text) {
    write_text(path, text);
    auto t = fs::last_write_time(path) + std::chrono::seconds(10);
    fs::last_write_time(path, t);
  }
  TempDir cache_, tasks_;
  ScopedEnv xdg_{"XDG_CACHE_HOME", cache_.path()};
  ScopedEnv on_{"RETORT_TASK_INDEX", "on"};
};

TEST_F(IndexCache, SecondRunParsesNothingButTheSelectedTask) {
  auto first = index_once();
  EXPECT_EQ(first.yaml_files_indexed, 6u);
  // 6 files + 5 includes while indexing, then t0 and its include.
  EXPECT_EQ(first.yaml_files_read, 6u + 5u + 2u);
  ASSERT_TRUE(fs::is_directory(cache_.file("retort/task_index")));
  auto second = index_once();
  EXPECT_EQ(second.yaml_files_indexed, 6u);
  EXPECT_EQ(second.yaml_files_read, 2u);
}

TEST_F(IndexCache, ChangedNewAndRemovedFilesAreSeen) {
  index_once();
  touch(tasks_.file("t1.yaml"), task_text("t1_renamed"));
  write(tasks_.file("sub/new.yaml"), task_text("brand_new"));
  fs::remove(tasks_.file("t2.yaml"));
  TaskRegistry reg;
  reg.enable_index_cache();
  reg.add_dir(tasks_.path());
  EXPECT_EQ(reg.select({"t1_renamed"}).tasks.size(), 1u);
  EXPECT_EQ(reg.select({"brand_new"}).tasks.size(), 1u);
  EXPECT_NE(error_of([&] { reg.select({"t2"}); }).find("unknown task 't2'"), std::string::npos);
  EXPECT_EQ(reg.select({"ts"}).tasks.size(), 3u);  // t0, t3, t4 keep the tag
  // Only the two changed files were parsed while indexing (then the selected tasks).
  EXPECT_EQ(reg.stats().yaml_files_indexed, 6u);
  EXPECT_EQ(reg.stats().yaml_files_read, 2u + 1u + 1u + 3u * 2u);
}

TEST_F(IndexCache, AChangedIncludeReindexesTheFilesThatIncludeIt) {
  index_once();
  touch(tasks_.file("_tmpl"), "test_split: test\ndoc_to_text: q\ntag: from_template\n");
  auto st = index_once("from_template", 5);
  EXPECT_EQ(st.yaml_files_read, 5u * 2u + 5u * 2u);  // re-indexed, then the 5 tasks loaded
}

TEST_F(IndexCache, ABrokenFileStaysBrokenAndIsReportedWhenNamed) {
  index_once();
  TaskRegistry reg;
  reg.enable_index_cache();
  reg.add_dir(tasks_.path());
  std::string m = error_of([&] { reg.select({tasks_.path()}); });
  EXPECT_NE(m.find("broken.yaml:2"), std::string::npos) << m;
  EXPECT_NE(m.find("YAML syntax error"), std::string::npos) << m;
  // Fixed, it is picked up.
  touch(tasks_.file("broken.yaml"), task_text("fixed"));
  EXPECT_EQ(index_once("fixed").yaml_files_read, 1u + 1u);
}

TEST_F(IndexCache, ADamagedIndexIsRebuiltSilently) {
  index_once();
  for (const auto& e : fs::directory_iterator(cache_.file("retort/task_index")))
    write_text(e.path().string(), "retort-task-index 1\tnot\tthis\tdir\ngarbage\\q\n");
  EXPECT_EQ(index_once().yaml_files_read, 6u + 5u + 2u);
  EXPECT_EQ(index_once().yaml_files_read, 2u);
}

TEST_F(IndexCache, OffMeansNoIndexFile) {
  ScopedEnv off("RETORT_TASK_INDEX", "off");
  index_once();
  EXPECT_FALSE(fs::exists(cache_.file("retort/task_index")));
  EXPECT_EQ(index_once().yaml_files_read, 6u + 5u + 2u);
}

TEST_F(IndexCache, AnUnwritableCacheOnlyCostsSpeed) {
  write_text(cache_.file("retort"), "a file where the cache directory would be");
  EXPECT_EQ(index_once().yaml_files_read, 6u + 5u + 2u);
  EXPECT_EQ(index_once().yaml_files_read, 6u + 5u + 2u);
}

TEST_F(IndexCache, IndexesOfRemovedDirectoriesAreDropped) {
  auto count = [&] {
    auto it = fs::directory_iterator(cache_.file("retort/task_index"));
    return static_cast<size_t>(std::distance(it, fs::directory_iterator()));
  };
  {
    TempDir scratch;
    write(scratch.file("x.yaml"), task_text("x"));
    TaskRegistry reg;
    reg.enable_index_cache();
    reg.add_dir(scratch.path());
    reg.select({"x"});
  }  // scratch is gone
  EXPECT_EQ(count(), 1u);
  index_once();  // a new index file for tasks_: the stale one goes
  EXPECT_EQ(count(), 1u);
  index_once();
  EXPECT_EQ(count(), 1u);
}

}  // namespace
// Directories whose mtimes are older than the index: the index is trusted, and no file is
// looked at until it is used.
class TrustedIndexCache : public IndexCache {
 protected:
  void SetUp() override {
    IndexCache::SetUp();
    age_dirs();
    index_once();  // written with old directory mtimes: trustable
  }
  // Sets every directory's mtime an hour back (as if the tree were checked out long ago).
  void age_dirs() {
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
    fs::last_write_time(tasks_.path(), old);
    for (const auto& e : fs::recursive_directory_iterator(tasks_.path()))
      if (e.is_directory()) fs::last_write_time(e.path(), old);
  }
  // Rewrites a file in place, its directory's mtime kept (no entry came or went).
  void edit_in_place(const std::string& path, const std::string& text) {
    const auto dir_time = fs::last_write_time(fs::path(path).parent_path());
    touch(path, text);
    fs::last_write_time(fs::path(path).parent_path(), dir_time);
  }
  Selection select(const std::string& name, TaskRegistry::Stats* st = nullptr) {
    TaskRegistry reg;
    reg.enable_index_cache();
    reg.add_dir(tasks_.path());
    Selection sel = reg.select({name});
    if (st) *st = reg.stats();
    return sel;
  }
};

TEST_F(TrustedIndexCache, NoFileIsLookedAtButTheSelectedOne) {
  TaskRegistry::Stats st;
  EXPECT_EQ(select("t3", &st).tasks.at(0).name, "t3");
  EXPECT_EQ(st.yaml_files_indexed, 0u);  // not even a stat: the directories vouch for them
  EXPECT_EQ(st.yaml_files_read, 2u);     // t3 and its include
  EXPECT_EQ(select("ts").tasks.size(), 5u);  // a tag, from the stored name table
}

TEST_F(TrustedIndexCache, ASelectedFileEditedInPlaceIsReadAsItIsNow) {
  edit_in_place(tasks_.file("t0.yaml"), "include: _tmpl\ntask: t0\ndoc_to_text: changed\n");
  TaskRegistry::Stats st;
  Selection sel = select("t0", &st);
  EXPECT_EQ(sel.tasks.at(0).doc_to_text, "changed");
  EXPECT_EQ(st.yaml_files_indexed, 6u);  // the stale index sent it back to a full look
}

TEST_F(TrustedIndexCache, AnEditedIncludeOfTheSelectedFileIsSeen) {
  edit_in_place(tasks_.file("_tmpl"), "test_split: test\ndoc_to_text: from_tmpl\ntag: ts\n");
  EXPECT_EQ(select("t2").tasks.at(0).doc_to_text, "from_tmpl");
}

TEST_F(TrustedIndexCache, ANameAnInPlaceEditAddedIsFound) {
  edit_in_place(tasks_.file("t1.yaml"), task_text("t1_renamed"));
  EXPECT_EQ(select("t1_renamed").tasks.at(0).name, "t1_renamed");
  // The full look rewrote the index; the old name is gone from it.
  EXPECT_NE(error_of([&] { select("t1"); }).find("unknown task 't1'"), std::string::npos);
}

TEST_F(TrustedIndexCache, AnAddedOrRemovedFileMovesItsDirectoryAndIsSeen) {
  fs::remove(tasks_.file("t4.yaml"));
  write(tasks_.file("t5.yaml"), task_text("t5"));
  TaskRegistry::Stats st;
  EXPECT_EQ(select("t5", &st).tasks.size(), 1u);
  EXPECT_EQ(st.yaml_files_indexed, 6u);
  EXPECT_NE(error_of([&] { select("t4"); }).find("unknown task 't4'"), std::string::npos);
}

TEST_F(TrustedIndexCache, ANewSubdirectoryIsSeen) {
  write(tasks_.file("deep/er/t9.yaml"), task_text("t9"));
  EXPECT_EQ(select("t9").tasks.size(), 1u);
}

TEST_F(IndexCache, DirectoriesChangedJustBeforeIndexingAreNotTrusted) {
  index_once();  // the files were written a moment ago: too new to trust
  auto st = index_once();
  EXPECT_EQ(st.yaml_files_indexed, 6u);  // every file looked at again (stat, not parse)
  EXPECT_EQ(st.yaml_files_read, 2u);
}

}  // namespace retort
