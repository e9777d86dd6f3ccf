#include "providers/endpoint.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/log.h"

namespace retort {
namespace {

using Vars = std::vector<std::pair<std::string, std::string>>;

EndpointOptions opts(std::string model, std::string base = "", std::string key = "") {
  EndpointOptions o;
  o.model = std::move(model);
  o.base_url = std::move(base);
  o.api_key = std::move(key);
  return o;
}

// Sets env vars for one test and restores them after.
class EnvGuard {
 public:
  explicit EnvGuard(std::vector<std::pair<std::string, std::string>> vars = {}) {
    for (const char* k : {"OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_KEY",
                          "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", "LM_STUDIO_API_BASE",
                          "LM_STUDIO_API_KEY", "OLLAMA_API_BASE", "ANTHROPIC_API_KEY"}) {
      const char* v = getenv(k);
      if (v) saved_.emplace_back(k, v);
      unsetenv(k);
    }
    for (auto& [k, v] : vars) setenv(k.c_str(), v.c_str(), 1);
    set_ = std::move(vars);
  }
  ~EnvGuard() {
    for (auto& [k, v] : set_) unsetenv(k.c_str());
    for (auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_, set_;
};

TEST(Endpoint, HostedVllmPrefixUsesItsEnvVars) {
  EnvGuard env(
      {{"HOSTED_VLLM_API_BASE", "http://gpu:8000/v1/"}, {"HOSTED_VLLM_API_KEY", "vk-12345"}});
  Endpoint ep = resolve_endpoint(opts("hosted_vllm/Qwen/Qwen3-8B"));
  EXPECT_EQ(ep.model, "Qwen/Qwen3-8B");
  EXPECT_EQ(ep.base_url, "http://gpu:8000/v1");
  EXPECT_EQ(ep.api_key, "vk-12345");
  EXPECT_EQ(ep.api_key_source, "HOSTED_VLLM_API_KEY");
  EXPECT_EQ(ep.provider, "hosted_vllm");
  EXPECT_EQ(ep.style, ApiStyle::kAuto);
  EXPECT_EQ(ep.server_root(), "http://gpu:8000");
  EXPECT_EQ(log::redact("key vk-12345"), "key ***");
}

TEST(Endpoint, LmStudioAndOllamaDefaults) {
  EnvGuard env;
  EXPECT_EQ(resolve_endpoint(opts("lm_studio/deepseek-r1")).base_url, "http://127.0.0.1:1234/v1");
  EXPECT_EQ(resolve_endpoint(opts("ollama/llama3")).base_url, "http://localhost:11434/v1");
}

TEST(Endpoint, OllamaBaseGetsV1) {
  EnvGuard env(Vars{{"OLLAMA_API_BASE", "http://box:11434"}});
  EXPECT_EQ(resolve_endpoint(opts("ollama/llama3")).base_url, "http://box:11434/v1");
}

TEST(Endpoint, FlagsWinOverModelArgsOverEnv) {
  EnvGuard env(Vars{{"OPENAI_API_BASE", "http://env:1/v1"}, {"OPENAI_API_KEY", "sk-env-key"}});
  EndpointOptions o;
  o.model = "my-model";
  o.model_args = {{"base_url", "http://args:2/v1/completions"}, {"api_key", "sk-args-key"}};
  Endpoint ep = resolve_endpoint(o);
  EXPECT_EQ(ep.base_url, "http://args:2/v1");  // pasted route stripped
  EXPECT_EQ(ep.api_key, "sk-args-key");
  o.base_url = "http://flag:3/v1";
  o.api_key = "sk-flag-key";
  ep = resolve_endpoint(o);
  EXPECT_EQ(ep.base_url, "http://flag:3/v1");
  EXPECT_EQ(ep.api_key_source, "--api-key");
  o = opts("bare-model");
  ep = resolve_endpoint(o);
  EXPECT_EQ(ep.base_url, "http://env:1/v1");
  EXPECT_EQ(ep.api_key, "sk-env-key");
  EXPECT_EQ(ep.model, "bare-model");
}

TEST(Endpoint, AnthropicStyleAndKey) {
  EnvGuard env(Vars{{"ANTHROPIC_API_KEY", "sk-ant-xyz"}});
  Endpoint ep = resolve_endpoint(opts("anthropic/claude-3-5-haiku"));
  EXPECT_EQ(ep.style, ApiStyle::kAnthropic);
  EXPECT_EQ(ep.base_url, "https://api.anthropic.com/v1");
  EXPECT_EQ(ep.api_key, "sk-ant-xyz");
}

TEST(Endpoint, IdentityHasNoSecret) {
  EnvGuard env;
  EndpointOptions o = opts("m", "http://h:1/v1", "sk-topsecret");
  Endpoint ep = resolve_endpoint(o);
  EXPECT_EQ(ep.identity().find("sk-topsecret"), std::string::npos);
  EXPECT_EQ(ep.identity(), "http://h:1/v1|m|auto");
}

TEST(Endpoint, AdapterNamesMapToStyles) {
  EnvGuard env;
  EndpointOptions o = opts("m", "http://h:1/v1");
  o.api_style = "local-chat-completions";
  EXPECT_EQ(resolve_endpoint(o).style, ApiStyle::kChat);
  o.api_style = "local-completions";
  EXPECT_EQ(resolve_endpoint(o).style, ApiStyle::kCompletions);
  o.api_style = "bogus";
  EXPECT_THROW(resolve_endpoint(o), Error);
}

TEST(Endpoint, NoBaseUrlIsAClearError) {
  EnvGuard env;
  try {
    resolve_endpoint(opts("hosted_vllm/x"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("HOSTED_VLLM_API_BASE"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace retort
