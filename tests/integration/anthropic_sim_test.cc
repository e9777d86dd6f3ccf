// Anthropic's streamed Messages replies, as `retort sim` writes them, read by the providers'
// parser: the two sides agree on the events, and the sim's faults mean a retry.
#include <gtest/gtest.h>

#include <string>

#include "engine/http.h"
#include "providers/anthropic_stream.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

HttpReply stream_messages(const SimServer& sim, const std::string& user) {
  HttpCall c;
  c.url = sim.base_url() + "/messages";
  c.headers = {"x-api-key: sk-ant-sim", "anthropic-version: 2023-06-01"};
  c.body = Json{{"model", "sim-model"},
                {"max_tokens", 64},
                {"stream", true},
                {"messages", Json::array({{{"role", "user"}, {"content", user}}})}}
               .dump();
  c.stream = true;
  c.timeout_s = 10;
  return http_call(c);
}

TEST(AnthropicSim, TheParserReadsTheSimsStream) {
  SimServer sim({"--api-key", "sk-ant-sim"});
  HttpReply reply = stream_messages(sim, "Hello there, streamed world");
  ASSERT_EQ(reply.status, 200) << reply.body;
  Response r;
  Outcome o = wire::parse_anthropic_stream(reply, r);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "Hello there, streamed world");
  EXPECT_EQ(r.finish_reason, "end_turn");
  EXPECT_GT(r.prompt_tokens, 0);
  EXPECT_EQ(r.completion_tokens, 5);
  EXPECT_GE(r.ttft_s, 0);
}

TEST(AnthropicSim, ThinkingComesBackAsReasoning) {
  SimServer sim({"--api-key", "sk-ant-sim", "--mode", "fixed", "--reply",
                 "<think>Add them.</think>It is 4.", "--reasoning"});
  Response r;
  Outcome o = wire::parse_anthropic_stream(stream_messages(sim, "2+2?"), r);
  EXPECT_EQ(o.verdict, Verdict::kDone) << o.reason;
  EXPECT_EQ(r.reasoning, "Add them.");
  EXPECT_EQ(r.text, "It is 4.");
}

TEST(AnthropicSim, TruncatedAndMalformedStreamsAreRetried) {
  for (const char* fault : {"--fail-truncate", "--fail-malformed"}) {
    SimServer sim({"--api-key", "sk-ant-sim", fault, "1"});
    Response r;
    Outcome o = wire::parse_anthropic_stream(
        stream_messages(sim, "a fairly long reply for the stream to lose"), r);
    EXPECT_EQ(o.verdict, Verdict::kRetry) << fault;
    EXPECT_FALSE(r.ok) << fault;
  }
}

TEST(AnthropicSim, RetortRunScoresAGenerativeTaskOverTheMessagesApi) {
  std::string examples = source_dir() + "/examples";
  SimServer sim({"--model", "demo-model", "--mode", "script", "--script",
                 examples + "/sim_script.jsonl", "--api-key", "sk-ant-sim"});
  TempDir out;
  std::vector<std::string> args = {"run",           "--model",        "anthropic/demo-model",
                                   "--base-url",    sim.base_url(),   "--tasks",
                                   "demo_arith",    "--include_path", examples,
                                   "--output_path", out.path(),       "--no-cache"};
  auto r = run_retort(args, {"ANTHROPIC_API_KEY=sk-ant-sim"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|exact_match|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.6000"), std::string::npos) << r.out;  // as over chat completions
  // Without the key: one line naming the variable to set.
  auto no_key = run_retort(args, {"ANTHROPIC_API_KEY="});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("ANTHROPIC_API_KEY"), std::string::npos) << no_key.err;
  EXPECT_EQ(no_key.err.find("sk-ant-sim"), std::string::npos) << no_key.err;
}

}  // namespace
}  // namespace retort::testing
