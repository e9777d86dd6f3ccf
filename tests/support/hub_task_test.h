// What the built-in task tests share (tests/integration/catalog_tasks_test.cc,
// reading_tasks_test.cc): a fake Hugging Face Hub (tests/data/fake_hub.h) on loopback that
// serves synthetic rows under a benchmark's real repo id and config, the environment that
// points retort's Hub client (in this process and in a `retort` child) at it with caches in
// the test's own directories, and the registry of the built-in tasks/ folder. Header-only,
// like fake_hub.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/request.h"
#include "data/fake_hub.h"
#include "data/hub.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "util/json.h"

namespace retort::testing {

// Rows as JSON Lines.
inline std::string jsonl(const std::vector<Json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

class HubTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE",
                          "HF_DATASETS_OFFLINE"})
      unsetenv(v);
    setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    setenv("HF_HOME", home_.path().c_str(), 1);
    hub_forget_resolved_revisions();
    registry_.add_dir(source_dir() + "/tasks");
  }
  void TearDown() override {
    unsetenv("HF_ENDPOINT");
    unsetenv("HF_HOME");
  }

  // Serves {split: rows} of repo/config as JSON Lines ({config}/{split}-00000-of-00001.jsonl,
  // the layout of the Hub's parquet files) with a README card whose `configs` block names
  // them. Configs served earlier in the same repo stay (a new commit holds them all).
  void serve(const std::string& repo, const std::string& config,
             const std::map<std::string, std::vector<Json>>& splits) {
    Json data_files = Json::array();
    for (const auto& [split, rows] : splits) {
      files_[repo][config + "/" + split + "-00000-of-00001.jsonl"] = jsonl(rows);
      data_files.push_back(Json{{"split", split}, {"path", config + "/" + split + "-*"}});
    }
    configs_[repo].push_back(Json{{"config_name", config}, {"data_files", data_files}});
    files_[repo]["README.md"] = "---\n---\n";
    hub_.add_commit(repo, files_[repo], Json{{"configs", configs_[repo]}});
  }

  // The one task a name selects (from the built-in registry unless another is given).
  TaskSpec task(const std::string& name, TaskRegistry* registry = nullptr) {
    Selection s = (registry ? *registry : registry_).select({name});
    EXPECT_EQ(s.tasks.size(), 1u) << name;
    return s.tasks.at(0);
  }

  // The environment a `retort` child runs with: this Hub, and its caches (Hub, task index,
  // doc counts) in this test's directories.
  std::vector<std::string> env() const {
    return {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + home_.path(),
            "XDG_CACHE_HOME=" + cache_home_.path()};
  }

  // Responses as the engine hands them to scoring: a loglikelihood, a generation, a failure.
  static Response ll(double v, bool greedy = false) {
    Response r;
    r.ok = true;
    r.loglikelihood = v;
    r.is_greedy = greedy;
    return r;
  }
  static Response text(const std::string& t) {
    Response r;
    r.ok = true;
    r.text = t;
    return r;
  }
  static Response failed() {
    Response r;
    r.ok = false;
    r.error = "HTTP 500";
    return r;
  }

  FakeHub hub_;
  TempDir home_;
  TempDir cache_home_;
  TaskRegistry registry_;
  std::map<std::string, Json> configs_;                              // repo -> configs
  std::map<std::string, std::map<std::string, std::string>> files_;  // repo -> path -> text
};

}  // namespace retort::testing
