// load_hub_chat_template against a fake Hub: chat_template.jinja wins over the config's
// template (transformers >= 4.47), revision= picks the commit, a downloaded template works
// offline, and a missing repo is one error naming it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "data/fake_hub.h"
#include "data/hub.h"
#include "prompt/chat_template.h"
#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::FakeHub;
using testing::TempDir;

class HubChatTemplate : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    setenv("HF_HOME", home_.path().c_str(), 1);
    for (const char* v : {"HF_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE",
                          "HF_DATASETS_OFFLINE"})
      unsetenv(v);
    hub_forget_resolved_revisions();
  }
  void TearDown() override {
    for (const char* v : {"HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE"}) unsetenv(v);
  }
  static std::string config(const std::string& tpl) {
    return Json{{"chat_template", tpl}, {"eos_token", "</s>"}}.dump();
  }
  FakeHub hub_;
  TempDir home_;
};

const std::vector<ChatMessage> kHi = {{"user", "hi"}};

TEST_F(HubChatTemplate, SidecarRevisionAndOffline) {
  const std::string old_sha =
      hub_.add_model_commit("org/m", {{"tokenizer_config.json", config("old:{{ eos_token }}")}});
  hub_.add_model_commit("org/m", {{"tokenizer_config.json", config("config:{{ eos_token }}")},
                                  {"chat_template.jinja", "jinja:{{ eos_token }}\n"}});
  ChatTemplate head = load_hub_chat_template("org/m");
  EXPECT_EQ(head.render(kHi, true, false), "jinja:</s>");
  EXPECT_NE(head.origin().find("org/m"), std::string::npos);
  EXPECT_EQ(load_hub_chat_template("org/m", old_sha).render(kHi, true, false), "old:</s>");
  // Downloaded once: the cache answers offline, with no request.
  hub_.clear_log();
  setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(load_hub_chat_template("org/m").render(kHi, true, false), "jinja:</s>");
  EXPECT_EQ(hub_.request_count(), 0u);
  // Cached under the model-repo layout huggingface_hub uses.
  EXPECT_TRUE(std::filesystem::is_directory(home_.path() + "/hub/models--org--m/snapshots"));
}

TEST_F(HubChatTemplate, MissingRepoOrTemplateNamesTheRepo) {
  hub_.add_model_commit("org/base", {{"tokenizer_config.json", "{\"eos_token\": \"</s>\"}"}});
  for (const char* repo : {"org/nothing-here", "org/base"}) {
    try {
      load_hub_chat_template(repo);
      FAIL() << repo;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(repo), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("--chat_template FILE"), std::string::npos) << e.message();
    }
  }
}

}  // namespace
}  // namespace retort
