// Real files through load_split: parquet fixtures (written by DuckDB) from a local path
// and from a fake Hub repo laid out like cais/mmlu, and a multi-megabyte download.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/data.h"
#include "data/fake_hub.h"
#include "data/formats.h"
#include "data/hub.h"
#include "support/test_support.h"
#include "util/hash.h"

namespace retort {
namespace {

using testing::FakeHub;
using testing::TempDir;

std::string fixture(const std::string& name) {
  return testing::source_dir() + "/tests/fixtures/parquet/" + name;
}

class LoadHub : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE",
                          "HF_DATASETS_OFFLINE"}) {
      unsetenv(v);
    }
    setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    setenv("HF_HOME", home_.path().c_str(), 1);
    hub_forget_resolved_revisions();
  }
  void TearDown() override {
    unsetenv("HF_ENDPOINT");
    unsetenv("HF_HOME");
  }
  FakeHub hub_;
  TempDir home_;
};

TEST_F(LoadHub, LocalParquetFile) {
  std::string path = fixture("duckdb_nested.parquet");
  DatasetRef ref;
  ref.path = path;
  auto docs = load_split(ref, "test");
  auto expected = read_rows(path);
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(docs, expected);
}

TEST_F(LoadHub, ParquetFromAHubRepoLaidOutLikeMmlu) {
  std::string bytes = testing::read_text(fixture("duckdb_hf_metadata.parquet"));
  std::string nested = testing::read_text(fixture("duckdb_nested.parquet"));
  Json card = Json::parse(R"({"configs": [
      {"config_name": "abstract_algebra", "data_files": [
          {"split": "test", "path": "abstract_algebra/test-*"},
          {"split": "dev", "path": "abstract_algebra/dev-*"}]}]})");
  hub_.add_commit("cais/mmlu",
                  {{"abstract_algebra/test-00000-of-00001.parquet", bytes},
                   {"abstract_algebra/dev-00000-of-00001.parquet", nested},
                   {"README.md", "---\nconfigs: ...\n---\n"}},
                  card);
  DatasetRef ref;
  ref.path = "cais/mmlu";
  ref.name = "abstract_algebra";
  EXPECT_EQ(load_split(ref, "test"), read_rows(fixture("duckdb_hf_metadata.parquet")));
  EXPECT_EQ(load_split(ref, "dev"), read_rows(fixture("duckdb_nested.parquet")));
  EXPECT_EQ(hub_.count("/cdn/"), 2u);  // parquet is LFS: served by the CDN host
}

TEST_F(LoadHub, MultiMegabyteDownloadStreamsToTheCache) {
  std::string rows;
  for (int i = 0; rows.size() < (3u << 20); ++i) {
    rows +=
        "{\"i\": " + std::to_string(i) + ", \"h\": \"" + sha256_hex(std::to_string(i)) + "\"}\n";
  }
  std::string gz = FakeHub::gzip(rows);
  ASSERT_GT(gz.size(), 1u << 20);
  hub_.add_commit("org/big", {{"data/test-00000-of-00001.jsonl.gz", gz}});
  DatasetRef ref;
  ref.path = "org/big";
  auto docs = load_split(ref, "test");
  ASSERT_GT(docs.size(), 10000u);
  EXPECT_EQ(docs[5]["h"], sha256_hex("5"));
}

}  // namespace
}  // namespace retort
