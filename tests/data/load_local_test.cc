// load_split / has_split over local sources: a file, a directory with split-named files,
// and a loader name (json/csv/text) with data_files.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/data.h"
#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;
using testing::write_text;

std::string error_of(const DatasetRef& ref, const std::string& split) {
  try {
    load_split(ref, split);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(LoadLocal, SingleFileServesTheSplitAsked) {
  TempDir dir;
  write_text(dir.file("rows.jsonl"), "{\"q\": \"a\", \"n\": 1}\n{\"q\": \"b\", \"n\": 2}\n");
  DatasetRef ref;
  ref.path = dir.file("rows.jsonl");
  auto docs = load_split(ref, "test");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["q"], "b");
  EXPECT_TRUE(has_split(ref, "test"));
}

TEST(LoadLocal, RelativePathResolvesAgainstBaseDir) {
  TempDir dir;
  write_text(dir.file("rows.csv"), "q,n\nx,1\n");
  DatasetRef ref;
  ref.path = "rows.csv";
  ref.base_dir = dir.path();
  auto docs = load_split(ref, "train");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["q"], "x");
}

TEST(LoadLocal, DirectoryFindsSplitsByConventionalNames) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("data"));
  write_text(dir.file("data/train-00000-of-00002.jsonl"), "{\"i\": 1}\n");
  write_text(dir.file("data/train-00001-of-00002.jsonl"), "{\"i\": 2}\n");
  write_text(dir.file("data/dev.jsonl"), "{\"i\": 3}\n");
  write_text(dir.file("README.md"), "# not data\n");
  DatasetRef ref;
  ref.path = dir.path();
  auto train = load_split(ref, "train");
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train[0]["i"], 1);
  EXPECT_EQ(train[1]["i"], 2);
  EXPECT_EQ(load_split(ref, "validation").size(), 1u);
  EXPECT_EQ(load_split(ref, "dev").size(), 1u);  // synonym
  EXPECT_FALSE(has_split(ref, "test"));
  std::string err = error_of(ref, "test");
  EXPECT_NE(err.find("split 'test' not found"), std::string::npos) << err;
  EXPECT_NE(err.find("train, validation"), std::string::npos) << err;
}

TEST(LoadLocal, DirectoryWithConfigSubfolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("main"));
  std::filesystem::create_directories(dir.file("socratic"));
  write_text(dir.file("main/test.jsonl"), "{\"v\": \"main\"}\n");
  write_text(dir.file("socratic/test.jsonl"), "{\"v\": \"soc\"}\n");
  DatasetRef ref;
  ref.path = dir.path();
  ref.name = "socratic";
  auto docs = load_split(ref, "test");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["v"], "soc");
}

TEST(LoadLocal, LoaderNameWithDataFilesAndGlobs) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("shards"));
  write_text(dir.file("shards/a.jsonl"), "{\"k\": 1}\n");
  write_text(dir.file("shards/b.jsonl"), "{\"k\": 2}\n{\"k\": 3}\n");
  write_text(dir.file("shards/c.csv"), "k\n9\n");
  DatasetRef ref;
  ref.path = "json";
  ref.base_dir = dir.path();
  ref.data_files["test"] = {"shards/*.jsonl"};
  ref.data_files["train"] = {dir.file("shards/c.csv")};
  auto docs = load_split(ref, "test");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[2]["k"], 3);
  EXPECT_TRUE(has_split(ref, "train"));
  std::string err = error_of(ref, "validation");
  EXPECT_NE(err.find("test, train"), std::string::npos) << err;
}

TEST(LoadLocal, ColumnsAreHonoured) {
  TempDir dir;
  write_text(dir.file("rows.jsonl"), "{\"a\": 1, \"b\": 2, \"c\": 3}\n");
  DatasetRef ref;
  ref.path = dir.file("rows.jsonl");
  ref.columns = {"c", "a"};
  auto docs = load_split(ref, "test");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_FALSE(docs[0].contains("b"));
  EXPECT_EQ(docs[0]["c"], 3);
}

TEST(LoadLocal, TextLoaderYieldsLines) {
  TempDir dir;
  write_text(dir.file("corpus.txt"), "first line\nsecond line\n");
  DatasetRef ref;
  ref.path = "text";
  ref.data_files["test"] = {dir.file("corpus.txt")};
  auto docs = load_split(ref, "test");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["text"], "second line");
}

TEST(LoadLocal, ClearErrors) {
  TempDir dir;
  write_text(dir.file("empty.jsonl"), "");
  write_text(dir.file("table.xlsx"), "PK");
  DatasetRef ref;
  ref.path = dir.file("empty.jsonl");
  EXPECT_NE(error_of(ref, "test").find("has no rows"), std::string::npos);
  ref.path = dir.file("table.xlsx");
  EXPECT_NE(error_of(ref, "test").find("unknown data file format"), std::string::npos);
  ref.path = dir.file("missing.jsonl");
  EXPECT_NE(error_of(ref, "test").find("dataset not found"), std::string::npos);
  ref.path = "json";
  EXPECT_NE(error_of(ref, "test").find("needs data_files"), std::string::npos);
  ref.path = "json";
  ref.data_files["test"] = {dir.file("nope/*.jsonl")};
  EXPECT_NE(error_of(ref, "test").find("no files match"), std::string::npos);
}

}  // namespace
}  // namespace retort
