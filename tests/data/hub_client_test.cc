// The Hub client and load_split for Hub repos, against FakeHub on loopback: downloads and
// the huggingface_hub cache layout, cache hits without network, offline mode, revisions,
// renamed repos, configs/splits, the parquet branch, gated repos and tokens, errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "data/data.h"
#include "data/fake_hub.h"
#include "data/hub.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/log.h"

namespace retort {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::TempDir;

const char* kEnvVars[] = {"HF_ENDPOINT",
                          "HF_HOME",
                          "HF_HUB_CACHE",
                          "HF_TOKEN",
                          "HUGGING_FACE_HUB_TOKEN",
                          "HF_HUB_OFFLINE",
                          "HF_DATASETS_OFFLINE"};

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kEnvVars) unsetenv(v);
    setenv("HF_ENDPOINT", (hub_.endpoint() + "/").c_str(), 1);  // trailing '/' is stripped
    setenv("HF_HOME", home_.path().c_str(), 1);
    hub_forget_resolved_revisions();
  }
  void TearDown() override {
    for (const char* v : kEnvVars) unsetenv(v);
  }

  std::string cache() const { return home_.path() + "/hub"; }

  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.message();
    }
    return "(no error)";
  }

  static DatasetRef ref(const std::string& path, const std::string& name = "",
                        const std::string& revision = "") {
    DatasetRef r;
    r.path = path;
    r.name = name;
    r.revision = revision;
    return r;
  }

  FakeHub hub_;
  TempDir home_;
};

const std::string kTestRows =
    "{\"question\": \"1+1\", \"answer\": \"2\"}\n"
    "{\"question\": \"2+2\", \"answer\": \"4\"}\n";

TEST_F(HubTest, DownloadsIntoTheHuggingFaceCacheLayout) {
  std::string sha = hub_.add_commit(
      "org/tiny", {{"README.md", "# tiny\n"},
                   {"data/test-00000-of-00001.jsonl", kTestRows},
                   {"data/train-00000-of-00001.jsonl.gz", FakeHub::gzip(kTestRows + kTestRows)}});
  auto test = load_split(ref("org/tiny"), "test");
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[1]["answer"], "4");
  // The .gz file is "LFS": it comes through the CDN redirect.
  auto train = load_split(ref("org/tiny"), "train");
  EXPECT_EQ(train.size(), 4u);
  EXPECT_EQ(hub_.count("/cdn/"), 1u);

  std::string repo_dir = cache() + "/datasets--org--tiny";
  EXPECT_EQ(testing::read_text(repo_dir + "/refs/main"), sha);
  std::string snap = repo_dir + "/snapshots/" + sha + "/data/test-00000-of-00001.jsonl";
  ASSERT_TRUE(fs::is_symlink(snap));
  std::string target = fs::read_symlink(snap).string();
  EXPECT_TRUE(starts_with(target, "../../../blobs/")) << target;
  EXPECT_EQ(target.find('"'), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(fs::path(snap).parent_path() / target));
  EXPECT_EQ(testing::read_text(snap), kTestRows);  // stored decoded, not gzip
  // The LFS blob is named by its sha256 (X-Linked-Etag), and no partial file remains.
  std::string lfs = repo_dir + "/snapshots/" + sha + "/data/train-00000-of-00001.jsonl.gz";
  std::string lfs_target = fs::read_symlink(lfs).string();
  EXPECT_EQ(lfs_target, "../../../blobs/" + sha256_hex(FakeHub::gzip(kTestRows + kTestRows)));
  for (const auto& e : fs::directory_iterator(repo_dir + "/blobs")) {
    EXPECT_FALSE(ends_with(e.path().string(), ".incomplete")) << e.path();
  }
  // HEAD asks for the identity encoding, so ETag and Content-Length describe the file.
  for (const auto& r : hub_.requests()) {
    if (r.method == "HEAD") {
      EXPECT_EQ(r.headers.at("accept-encoding"), "identity");
    }
  }
}

TEST_F(HubTest, SecondLoadHitsTheCache) {
  std::string sha = hub_.add_commit("org/tiny", {{"data/test-00000-of-00001.jsonl", kTestRows}});
  load_split(ref("org/tiny", "", sha), "test");
  EXPECT_GT(hub_.request_count(), 0u);
  hub_.clear_log();
  // A pinned commit already seen needs no network at all.
  EXPECT_EQ(load_split(ref("org/tiny", "", sha), "test").size(), 2u);
  EXPECT_EQ(hub_.request_count(), 0u);
  // A branch is checked with one metadata request; nothing is downloaded again.
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
  EXPECT_EQ(hub_.request_count(), 1u);
  EXPECT_EQ(hub_.count("/api/datasets/org/tiny/revision/main"), 1u);
  // ... once per process: later loads of that branch (other splits, has_split) use it.
  EXPECT_TRUE(has_split(ref("org/tiny"), "test"));
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
  EXPECT_EQ(hub_.request_count(), 1u);
  // A new process (here: forgetting) sees a push to the branch.
  std::string sha2 = hub_.add_commit(
      "org/tiny", {{"data/test-00000-of-00001.jsonl", "{\"question\": \"new\"}\n"}});
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
  hub_forget_resolved_revisions();
  EXPECT_EQ(load_split(ref("org/tiny"), "test")[0]["question"], "new");
  EXPECT_EQ(testing::read_text(cache() + "/datasets--org--tiny/refs/main"), sha2);
}

TEST_F(HubTest, OfflineUsesTheCacheAndNamesWhatIsMissing) {
  hub_.add_commit("org/tiny", {{"data/test-00000-of-00001.jsonl", kTestRows},
                               {"data/train-00000-of-00001.jsonl", kTestRows}});
  load_split(ref("org/tiny"), "test");
  hub_.clear_log();
  setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
  EXPECT_EQ(hub_.request_count(), 0u);
  std::string err = error_of([&] { load_split(ref("org/tiny"), "train"); });
  EXPECT_NE(err.find("data/train-00000-of-00001.jsonl"), std::string::npos) << err;
  EXPECT_NE(err.find("HF_HUB_OFFLINE"), std::string::npos) << err;
  err = error_of([&] { load_split(ref("org/other"), "test"); });
  EXPECT_NE(err.find("org/other"), std::string::npos) << err;
  EXPECT_NE(err.find("not in the cache"), std::string::npos) << err;
  unsetenv("HF_HUB_OFFLINE");
  setenv("HF_DATASETS_OFFLINE", "yes", 1);
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
  EXPECT_EQ(hub_.request_count(), 0u);
}

TEST_F(HubTest, OfflineReusesACacheWithoutOurListing) {
  // A snapshot as Python's huggingface_hub leaves it: refs + snapshot + blob only.
  std::string sha = hub_.add_commit("org/tiny", {{"data/test-00000-of-00001.jsonl", kTestRows}});
  load_split(ref("org/tiny"), "test");
  fs::remove_all(cache() + "/datasets--org--tiny/.retort");
  setenv("HF_HUB_OFFLINE", "true", 1);
  EXPECT_EQ(load_split(ref("org/tiny"), "test").size(), 2u);
}

TEST_F(HubTest, RevisionsBranchesTagsAndCommits) {
  std::string v1 = hub_.add_commit("org/evolving", {{"test.jsonl", "{\"v\": 1}\n"}});
  hub_.set_ref("org/evolving", "v1.0", v1);
  std::string v2 = hub_.add_commit("org/evolving", {{"test.jsonl", "{\"v\": 2}\n"}});
  EXPECT_EQ(load_split(ref("org/evolving"), "test")[0]["v"], 2);
  EXPECT_EQ(load_split(ref("org/evolving", "", v1), "test")[0]["v"], 1);
  EXPECT_EQ(load_split(ref("org/evolving", "", "v1.0"), "test")[0]["v"], 1);
  std::string repo_dir = cache() + "/datasets--org--evolving";
  EXPECT_EQ(testing::read_text(repo_dir + "/refs/v1.0"), v1);
  EXPECT_EQ(testing::read_text(repo_dir + "/refs/main"), v2);
  EXPECT_FALSE(fs::exists(repo_dir + "/refs/" + v1));  // commits need no ref
  // A single file by branch follows the branch as it moves.
  EXPECT_EQ(testing::read_text(hub_download_file("org/evolving", "test.jsonl")), "{\"v\": 2}\n");
  hub_.add_commit("org/evolving", {{"test.jsonl", "{\"v\": 3}\n"}});
  EXPECT_EQ(testing::read_text(hub_download_file("org/evolving", "test.jsonl")), "{\"v\": 3}\n");
  std::string err = error_of([&] { load_split(ref("org/evolving", "", "nope"), "test"); });
  EXPECT_NE(err.find("revision 'nope' not found"), std::string::npos) << err;
}

TEST_F(HubTest, RenamedRepoFollowsTheRelativeRedirect) {
  hub_.add_commit("openai/gsm8k", {{"main/test-00000-of-00001.jsonl", kTestRows},
                                   {"socratic/test-00000-of-00001.jsonl", kTestRows}});
  hub_.rename("gsm8k", "openai/gsm8k");
  auto docs = load_split(ref("gsm8k", "main"), "test");
  EXPECT_EQ(docs.size(), 2u);
  HubDatasetInfo info = hub_dataset_info("gsm8k");
  EXPECT_EQ(info.repo, "openai/gsm8k");
}

TEST_F(HubTest, ConfigsFromTheDatasetCard) {
  Json card = Json::parse(R"({"configs": [
    {"config_name": "all", "data_files": [{"split": "test", "path": "all/test-*"},
                                          {"split": "dev", "path": ["all/dev-*"]}]},
    {"config_name": "algebra", "default": true,
     "data_files": [{"split": "test", "path": "algebra/test-*"}]}
  ]})");
  hub_.add_commit("org/mmlu",
                  {{"all/test-00000-of-00001.jsonl", kTestRows},
                   {"all/dev-00000-of-00001.jsonl", "{\"question\": \"d\"}\n"},
                   {"algebra/test-00000-of-00001.jsonl", "{\"question\": \"alg\"}\n"}},
                  card);
  EXPECT_EQ(load_split(ref("org/mmlu", "all"), "test").size(), 2u);
  EXPECT_EQ(load_split(ref("org/mmlu", "all"), "dev")[0]["question"], "d");
  EXPECT_EQ(load_split(ref("org/mmlu"), "test")[0]["question"], "alg");  // the default
  EXPECT_TRUE(has_split(ref("org/mmlu", "all"), "dev"));
  EXPECT_FALSE(has_split(ref("org/mmlu", "algebra"), "dev"));

  std::string err = error_of([&] { load_split(ref("org/mmlu", "algebr"), "test"); });
  EXPECT_NE(err.find("config 'algebr' not found"), std::string::npos) << err;
  EXPECT_NE(err.find("all, algebra"), std::string::npos) << err;
  err = error_of([&] { load_split(ref("org/mmlu", "all"), "validation"); });
  EXPECT_NE(err.find("split 'validation' not found"), std::string::npos) << err;
  EXPECT_NE(err.find("dev, test"), std::string::npos) << err;

  HubDatasetInfo info = hub_dataset_info("org/mmlu");
  EXPECT_EQ(info.source, "card");
  ASSERT_EQ(info.configs.size(), 2u);
  EXPECT_EQ(info.configs[0].name, "all");
  EXPECT_TRUE(info.configs[1].is_default);
}

TEST_F(HubTest, ConfigsFromConventionalFileNames) {
  hub_.add_commit("org/arc", {{"ARC-Easy/test-00000-of-00001.jsonl", kTestRows},
                              {"ARC-Challenge/test-00000-of-00001.jsonl", "{\"q\": 1}\n"},
                              {"ARC-Challenge/train-00000-of-00001.jsonl", "{\"q\": 1}\n"}});
  EXPECT_EQ(load_split(ref("org/arc", "ARC-Easy"), "test").size(), 2u);
  std::string err = error_of([&] { load_split(ref("org/arc"), "test"); });
  EXPECT_NE(err.find("several configs"), std::string::npos) << err;
  EXPECT_NE(err.find("ARC-Challenge, ARC-Easy"), std::string::npos) << err;
  HubDatasetInfo info = hub_dataset_info("org/arc");
  EXPECT_EQ(info.source, "files");
  ASSERT_EQ(info.configs.size(), 2u);
  EXPECT_EQ(info.configs[0].splits[0].name, "train");
}

TEST_F(HubTest, TreeListingIsPaged) {
  hub_.add_commit("org/paged", {{"data/test-00000-of-00003.jsonl", kTestRows},
                                {"data/test-00001-of-00003.jsonl", kTestRows},
                                {"data/test-00002-of-00003.jsonl", kTestRows},
                                {"data/train-00000-of-00001.jsonl", kTestRows}});
  hub_.set_siblings_in_info("org/paged", false);
  EXPECT_EQ(load_split(ref("org/paged"), "test").size(), 6u);
  EXPECT_GE(hub_.count("/api/datasets/org/paged/tree/"), 3u);
}

TEST_F(HubTest, ParquetBranchForScriptDatasets) {
  hub_.add_commit("org/script", {{"script.py", "# a loading script\n"}, {"README.md", "x"}});
  std::string pq = hub_.add_commit("org/script",
                                   {{"default/test/0000.parquet", "PAR1-fake-0"},
                                    {"default/test/0001.parquet", "PAR1-fake-1"},
                                    {"default/train/0000.parquet", "PAR1-fake-2"}},
                                   Json(), "refs/convert/parquet");
  hub_.set_siblings_in_info("org/script", false);
  hub_.set_parquet_api("org/script", Json::parse(R"({"default": {"test": ["u0", "u1"],
                                                                  "train": ["u2"]}})"));
  auto files = hub_resolve_files("org/script", "", "test");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(ends_with(files[0], "/snapshots/" + pq + "/default/test/0000.parquet"));
  EXPECT_EQ(testing::read_text(files[1]), "PAR1-fake-1");
  EXPECT_EQ(hub_.count("/api/datasets/org/script/revision/refs%2Fconvert%2Fparquet"), 1u);
  EXPECT_EQ(hub_.count("/api/datasets/org/script/parquet"), 1u);
  EXPECT_EQ(testing::read_text(cache() + "/datasets--org--script/refs/refs/convert/parquet"), pq);
  HubDatasetInfo info = hub_dataset_info("org/script");
  EXPECT_EQ(info.source, "parquet");
  EXPECT_EQ(info.revision, "refs/convert/parquet");
  // A file by branch name: the revision is URL-encoded in the resolve URL.
  std::string path =
      hub_download_file("org/script", "default/train/0000.parquet", "refs/convert/parquet");
  EXPECT_EQ(testing::read_text(path), "PAR1-fake-2");
  EXPECT_GE(hub_.count("/datasets/org/script/resolve/refs%2Fconvert%2Fparquet/"), 1u);
}

TEST_F(HubTest, GatedRepoNeedsTheTokenWhichStaysOffTheCdn) {
  hub_.add_commit("org/gated", {{"gpqa.csv.gz", FakeHub::gzip("Question,Answer\n\"a\nb\",c\n")}},
                  Json::parse(R"({"configs": [{"config_name": "gpqa_main",
                                  "data_files": [{"split": "train", "path": "gpqa.csv.gz"}]}]})"));
  hub_.set_gated("org/gated", "hf_secret_token_123");
  std::string err = error_of([&] { load_split(ref("org/gated"), "train"); });
  EXPECT_NE(
      err.find("accept the terms at " + hub_.endpoint() + "/datasets/org/gated, then set HF_TOKEN"),
      std::string::npos)
      << err;
  setenv("HF_TOKEN", "hf_secret_token_123", 1);
  auto docs = load_split(ref("org/gated"), "train");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["Question"], "a\nb");
  size_t cdn = 0;
  for (const auto& r : hub_.requests()) {
    bool has_auth = r.headers.count("authorization") > 0;
    if (starts_with(r.target, "/cdn/")) {
      ++cdn;
      EXPECT_FALSE(has_auth) << "token forwarded to the CDN";
    } else if (has_auth) {
      EXPECT_EQ(r.headers.at("authorization"), "Bearer hf_secret_token_123");
    }
  }
  EXPECT_EQ(cdn, 1u);
  EXPECT_EQ(log::redact("token hf_secret_token_123"), "token ***");
}

TEST_F(HubTest, TokenFromEnvFallbacksAndFile) {
  hub_.add_commit("org/gated", {{"test.jsonl", kTestRows}});
  hub_.set_gated("org/gated", "tok_from_file");
  testing::write_text(home_.path() + "/token", "tok_from_file\n");
  EXPECT_EQ(load_split(ref("org/gated"), "test").size(), 2u);
  setenv("HUGGING_FACE_HUB_TOKEN", "wrong_token", 1);
  hub_forget_resolved_revisions();
  EXPECT_NE(error_of([&] { load_split(ref("org/gated", "", "main"), "test"); }), "(no error)");
  HubSettings s = HubSettings::from_env();
  EXPECT_EQ(s.token, "wrong_token");
  setenv("HF_TOKEN", "tok_first", 1);
  EXPECT_EQ(HubSettings::from_env().token, "tok_first");
}

TEST_F(HubTest, SettingsFromEnvironment) {
  HubSettings s = HubSettings::from_env();
  EXPECT_EQ(s.endpoint, hub_.endpoint());
  EXPECT_EQ(s.cache_dir, home_.path() + "/hub");
  EXPECT_FALSE(s.offline);
  setenv("HF_HUB_CACHE", "/elsewhere/cache", 1);
  setenv("HF_HUB_OFFLINE", "ON", 1);
  s = HubSettings::from_env();
  EXPECT_EQ(s.cache_dir, "/elsewhere/cache");
  EXPECT_TRUE(s.offline);
  setenv("HF_HUB_OFFLINE", "0", 1);
  EXPECT_FALSE(HubSettings::from_env().offline);
}

TEST_F(HubTest, RepoNotFoundAndUnreachableEndpoint) {
  std::string err = error_of([&] { load_split(ref("org/missing"), "test"); });
  EXPECT_NE(err.find("dataset repo 'org/missing' not found"), std::string::npos) << err;
  setenv("HF_ENDPOINT", "http://127.0.0.1:1", 1);
  err = error_of([&] { load_split(ref("org/tiny"), "test"); });
  EXPECT_NE(err.find("cannot reach the Hub at http://127.0.0.1:1"), std::string::npos) << err;
  EXPECT_NE(err.find("HF_HUB_OFFLINE"), std::string::npos) << err;
}

TEST_F(HubTest, DataFilesSelectRepoFiles) {
  hub_.add_commit("org/loose", {{"files/a_eval.jsonl", kTestRows},
                                {"files/b_eval.jsonl", kTestRows},
                                {"files/other.jsonl", "{\"x\": 1}\n"}});
  DatasetRef r = ref("org/loose");
  r.data_files["test"] = {"files/*_eval.jsonl"};
  EXPECT_EQ(load_split(r, "test").size(), 4u);
  EXPECT_TRUE(has_split(r, "test"));
  EXPECT_FALSE(has_split(r, "train"));
}

TEST_F(HubTest, ColumnsPassThroughToTheReader) {
  hub_.add_commit("org/tiny", {{"test.jsonl", kTestRows}});
  DatasetRef r = ref("org/tiny");
  r.columns = {"answer"};
  auto docs = load_split(r, "test");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_FALSE(docs[0].contains("question"));
}

}  // namespace
}  // namespace retort
