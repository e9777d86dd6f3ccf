// Resolution rules on plain file lists: globs, split keywords in file names, the dataset
// card's configs block, configs from folder names.
#include <gtest/gtest.h>

#include "data/resolve.h"
#include "util/error.h"

namespace retort {
namespace {

TEST(Glob, StarStaysInOneComponentDoubleStarCrosses) {
  EXPECT_TRUE(glob_match("data/test-*", "data/test-00000-of-00001.parquet"));
  EXPECT_FALSE(glob_match("data/*", "data/sub/x.parquet"));
  EXPECT_TRUE(glob_match("data/**", "data/sub/x.parquet"));
  EXPECT_TRUE(glob_match("**/test.jsonl", "test.jsonl"));
  EXPECT_TRUE(glob_match("**/test.jsonl", "a/b/test.jsonl"));
  EXPECT_TRUE(glob_match("a/**/x.csv", "a/x.csv"));
  EXPECT_TRUE(glob_match("t?st.jsonl", "test.jsonl"));
  EXPECT_FALSE(glob_match("t?st.jsonl", "t/st.jsonl"));
  EXPECT_TRUE(glob_match("part-[0-9].csv", "part-7.csv"));
  EXPECT_FALSE(glob_match("part-[!0-9].csv", "part-7.csv"));
  EXPECT_TRUE(glob_match("x[.csv", "x[.csv"));  // unclosed class is literal
  EXPECT_FALSE(glob_match("*.parquet", "a.parquet.tmp"));
  EXPECT_TRUE(has_glob_chars("a/*.csv"));
  EXPECT_FALSE(has_glob_chars("a/b.csv"));
}

TEST(SplitNames, KeywordsAndSeparators) {
  EXPECT_TRUE(file_names_split("data/test-00000-of-00001.parquet", "test"));
  EXPECT_TRUE(file_names_split("test.jsonl", "test"));
  EXPECT_TRUE(file_names_split("data/lambada_test.jsonl", "test"));
  EXPECT_TRUE(file_names_split("test/part.csv", "test"));
  EXPECT_TRUE(file_names_split("eval.jsonl", "test"));
  EXPECT_TRUE(file_names_split("dev.jsonl", "validation"));
  EXPECT_TRUE(file_names_split("data/valid-0.parquet", "validation"));
  EXPECT_TRUE(file_names_split("training.csv", "train"));
  EXPECT_FALSE(file_names_split("contest.jsonl", "test"));
  EXPECT_FALSE(file_names_split("devices.csv", "validation"));
  EXPECT_FALSE(file_names_split("evaluation_notes.jsonl", "validation"));
  EXPECT_EQ(canonical_split("dev"), "validation");
  EXPECT_EQ(canonical_split("testing"), "test");
  EXPECT_EQ(canonical_split("auxiliary_train"), "auxiliary_train");
}

TEST(SplitNames, GroupsFilesInCanonicalOrder) {
  SplitFiles s = splits_from_file_names(
      {"README.md", "data/test-00000-of-00001.parquet", "data/train-00001-of-00002.parquet",
       "data/train-00000-of-00002.parquet", "data/validation-00000-of-00001.parquet"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, "train");
  EXPECT_EQ(s[0].second[0], "data/train-00000-of-00002.parquet");
  EXPECT_EQ(s[1].first, "validation");
  EXPECT_EQ(s[2].first, "test");
  // Nothing named after a split: everything is train.
  s = splits_from_file_names({"aime_2024_problems.parquet", ".gitattributes"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].first, "train");
  EXPECT_EQ(s[0].second.size(), 1u);
}

TEST(MatchFiles, GlobsExactPathsAndFolders) {
  std::vector<std::string> files = {"a/x.csv", "a/y.csv", "b/z.csv", "top.csv"};
  EXPECT_EQ(match_files({"a/*.csv"}, files), (std::vector<std::string>{"a/x.csv", "a/y.csv"}));
  EXPECT_EQ(match_files({"./top.csv"}, files), (std::vector<std::string>{"top.csv"}));
  EXPECT_EQ(match_files({"b"}, files), (std::vector<std::string>{"b/z.csv"}));
  EXPECT_TRUE(match_files({"c/*.csv"}, files).empty());
}

TEST(CardConfigs, AllDataFilesShapes) {
  Json card = Json::parse(R"({"configs": [
    {"config_name": "main", "default": true,
     "data_files": [{"split": "train", "path": "main/train-*"},
                    {"split": "test", "path": ["main/test-*", "extra/test.csv"]}]},
    {"config_name": "flat", "data_files": "flat/*.jsonl"},
    {"config_name": "dir", "data_dir": "dirconf"},
    {"data_files": {"validation": "v.csv"}}
  ]})");
  auto configs = card_configs(card);
  ASSERT_EQ(configs.size(), 4u);
  EXPECT_EQ(configs[0].name, "main");
  EXPECT_TRUE(configs[0].is_default);
  ASSERT_EQ(configs[0].data_files.size(), 2u);
  EXPECT_EQ(configs[0].data_files[1].second.size(), 2u);
  EXPECT_EQ(configs[1].data_files[0].first, "train");
  EXPECT_EQ(configs[2].data_dir, "dirconf");
  EXPECT_EQ(configs[3].name, "default");
  EXPECT_EQ(configs[3].data_files[0].first, "validation");
  EXPECT_TRUE(card_configs(Json::parse(R"({"license": "mit"})")).empty());
  EXPECT_THROW(card_configs(Json::parse(R"({"configs": "oops"})")), Error);
}

TEST(FileConfigs, FoldersWithSplitFilesAreConfigs) {
  auto configs = configs_from_file_names({"main/test-00000-of-00001.parquet",
                                          "main/train-00000-of-00001.parquet",
                                          "socratic/test-00000-of-00001.parquet", "README.md"});
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].name, "main");
  ASSERT_EQ(configs[0].splits.size(), 2u);
  EXPECT_EQ(configs[0].splits[1].second[0], "main/test-00000-of-00001.parquet");
  // data/ is not a config name.
  configs = configs_from_file_names({"data/test-00000-of-00001.parquet"});
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].name, "default");
  EXPECT_TRUE(configs_from_file_names({"script.py", "README.md"}).empty());
}

}  // namespace
}  // namespace retort
