// `retort sim` answering Anthropic's Messages API at /v1/messages: what an Anthropic client
// would see, from the request checks to the event stream and the injected faults.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sim/http_client.h"
#include "sim/tokenizer.h"
#include "support/test_support.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::sim {
namespace {

using retort::testing::SimServer;
using testing::HttpConnection;
using testing::HttpResponse;

HttpResponse post(int port, const std::string& path, const Json& body,
                  const std::map<std::string, std::string>& headers = {}) {
  HttpConnection c(port);
  return c.request("POST", path, body.dump(), headers);
}

Json messages_body(const std::string& user, Json extra = Json::object()) {
  Json b = {{"model", "sim-model"},
            {"max_tokens", 64},
            {"system", "Be brief."},
            {"messages", Json::array({{{"role", "user"}, {"content", user}}})}};
  for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = it.value();
  return b;
}

// One server-sent event: its "event:" name and its "data:" JSON.
struct Event {
  std::string name;
  Json data;
};

std::vector<Event> events_of(const std::string& body) {
  std::vector<Event> out;
  for (const auto& line : split(body, '\n')) {
    if (starts_with(line, "event: ")) out.push_back({line.substr(7), Json()});
    if (starts_with(line, "data: ")) {
      EXPECT_FALSE(out.empty()) << "a data line without an event line: " << line;
      if (!out.empty()) out.back().data = Json::parse(line.substr(6));
    }
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<Event>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.name);
  return names;
}

TEST(SimMessages, AnswersLikeAnthropicWithTheChatRoutesReplyAndPromptCount) {
  SimServer sim;
  auto r = post(sim.port(), "/v1/messages", messages_body("What is 2+2? Tell me."),
                {{"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  Json j = r.json();
  EXPECT_TRUE(starts_with(j["id"].get<std::string>(), "msg_")) << j["id"];
  EXPECT_EQ(j["type"], "message");
  EXPECT_EQ(j["role"], "assistant");
  EXPECT_EQ(j["model"], "sim-model");
  EXPECT_EQ(j["content"], Json::parse(R"([{"type":"text","text":"What is 2+2? Tell me."}])"));
  EXPECT_EQ(j["stop_reason"], "end_turn");
  EXPECT_TRUE(j["stop_sequence"].is_null());

  // The same conversation through the chat route: same reply, same prompt token count.
  Json chat = {
      {"messages", Json::array({{{"role", "system"}, {"content", "Be brief."}},
                                {{"role", "user"}, {"content", "What is 2+2? Tell me."}}})}};
  Json c = post(sim.port(), "/v1/chat/completions", chat).json();
  EXPECT_EQ(j["usage"]["input_tokens"], c["usage"]["prompt_tokens"]);
  EXPECT_EQ(j["usage"]["output_tokens"], c["usage"]["completion_tokens"]);
  EXPECT_EQ(j["usage"]["output_tokens"], split_pieces("What is 2+2? Tell me.").size());
}

TEST(SimMessages, MaxTokensStopSequencesAndContentBlocks) {
  SimServer sim;
  const std::string text = "one two three four five";
  Json j = post(sim.port(), "/v1/messages", messages_body(text, {{"max_tokens", 2}})).json();
  EXPECT_EQ(j["content"][0]["text"], "one two");
  EXPECT_EQ(j["stop_reason"], "max_tokens");
  EXPECT_TRUE(j["stop_sequence"].is_null());
  EXPECT_EQ(j["usage"]["output_tokens"], 2);

  j = post(sim.port(), "/v1/messages",
           messages_body(text, {{"stop_sequences", Json::array({" four", " three"})}}))
          .json();
  EXPECT_EQ(j["content"][0]["text"], "one two");
  EXPECT_EQ(j["stop_reason"], "stop_sequence");
  EXPECT_EQ(j["stop_sequence"], " three");

  // Content and system as lists of blocks; non-text blocks carry no text.
  Json blocks = {
      {"model", "sim-model"},
      {"max_tokens", 100},
      {"system", Json::array({{{"type", "text"}, {"text", "Be brief."}}})},
      {"temperature", 0},
      {"top_p", 0.9},
      {"top_k", 5},
      {"metadata", {{"user_id", "u1"}}},
      {"messages", Json::array({{{"role", "user"}, {"content", "earlier"}},
                                {{"role", "assistant"}, {"content", "ok"}},
                                {{"role", "user"},
                                 {"content", Json::array({
                                                 {{"type", "text"}, {"text", "first"}},
                                                 {{"type", "image"}, {"source", {{"type", "url"}}}},
                                                 {{"type", "text"}, {"text", "second"}},
                                             })}}})}};
  auto r = post(sim.port(), "/v1/messages", blocks);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["content"][0]["text"], "first\nsecond");
}

TEST(SimMessages, StreamsAnthropicsEventsInOrder) {
  SimServer sim;
  const std::string text = "Stream me, please";
  auto r = post(sim.port(), "/v1/messages", messages_body(text, {{"stream", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.complete);
  EXPECT_NE(r.headers["content-type"].find("text/event-stream"), std::string::npos);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  auto events = events_of(r.body);
  const size_t tokens = split_pieces(text).size();
  std::vector<std::string> want = {"message_start", "content_block_start", "ping"};
  want.insert(want.end(), tokens, "content_block_delta");
  want.insert(want.end(), {"content_block_stop", "message_delta", "message_stop"});
  ASSERT_EQ(names_of(events), want);
  for (const auto& e : events) EXPECT_EQ(e.data["type"], e.name);

  const Json& start = events[0].data["message"];
  EXPECT_TRUE(starts_with(start["id"].get<std::string>(), "msg_"));
  EXPECT_EQ(start["type"], "message");
  EXPECT_EQ(start["role"], "assistant");
  EXPECT_EQ(start["model"], "sim-model");
  EXPECT_EQ(start["content"], Json::array());
  EXPECT_TRUE(start["stop_reason"].is_null());
  EXPECT_TRUE(start["stop_sequence"].is_null());
  EXPECT_GT(start["usage"]["input_tokens"].get<int>(), 0);
  EXPECT_EQ(start["usage"]["output_tokens"], 1);
  EXPECT_EQ(events[1].data["index"], 0);
  EXPECT_EQ(events[1].data["content_block"], Json::parse(R"({"type":"text","text":""})"));

  std::string streamed;
  for (size_t i = 3; i < 3 + tokens; ++i) {
    EXPECT_EQ(events[i].data["index"], 0);
    EXPECT_EQ(events[i].data["delta"]["type"], "text_delta");
    streamed += events[i].data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(streamed, text);
  EXPECT_EQ(events[3 + tokens].data["index"], 0);
  const Json& end = events[4 + tokens].data;
  EXPECT_EQ(end["delta"]["stop_reason"], "end_turn");
  EXPECT_TRUE(end["delta"]["stop_sequence"].is_null());
  EXPECT_EQ(end["usage"]["output_tokens"], tokens);

  // A stop sequence shows in message_delta.
  r = post(sim.port(), "/v1/messages",
           messages_body(text, {{"stream", true}, {"stop_sequences", Json::array({","})}}));
  events = events_of(r.body);
  ASSERT_GE(events.size(), 2u);
  const Json& stop = events[events.size() - 2].data;
  EXPECT_EQ(stop["delta"]["stop_reason"], "stop_sequence");
  EXPECT_EQ(stop["delta"]["stop_sequence"], ",");
  EXPECT_EQ(stop["usage"]["output_tokens"], split_pieces("Stream me").size());
}

TEST(SimMessages, BadRequestsGetAnthropicsErrorShape) {
  SimServer sim;
  Json no_max = messages_body("hi");
  no_max.erase("max_tokens");
  auto r = post(sim.port(), "/v1/messages", no_max);
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.json(), Json::parse(R"({"type":"error","error":{"type":"invalid_request_error",)"
                                  R"("message":"max_tokens: Field required"}})"));

  auto message_of = [&](const Json& body) {
    auto reply = post(sim.port(), "/v1/messages", body);
    EXPECT_EQ(reply.status, 400) << body.dump();
    EXPECT_EQ(reply.json()["type"], "error");
    EXPECT_EQ(reply.json()["error"]["type"], "invalid_request_error");
    return reply.json()["error"]["message"].get<std::string>();
  };
  EXPECT_EQ(message_of(messages_body("hi", {{"max_tokens", 0}})),
            "max_tokens: Input should be greater than or equal to 1");
  EXPECT_EQ(message_of(messages_body("hi", {{"stop", "x"}})),
            "stop: Extra inputs are not permitted");
  EXPECT_EQ(message_of(messages_body("hi", {{"temperature", 1.5}})),
            "temperature: Input should be less than or equal to 1");
  EXPECT_EQ(message_of(messages_body(
                "hi", {{"messages", Json::array({{{"role", "system"}, {"content", "x"}}})}})),
            "messages.0.role: Input should be 'user' or 'assistant'");
  EXPECT_EQ(message_of(messages_body("hi", {{"messages", Json::array()}})),
            "messages: List should have at least 1 item after validation, not 0");
  Json no_model = messages_body("hi");
  no_model.erase("model");
  EXPECT_EQ(message_of(no_model), "model: Field required");

  auto unknown = post(sim.port(), "/v1/messages", messages_body("hi", {{"model", "claude-x"}}));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json()["error"]["type"], "not_found_error");
  EXPECT_EQ(unknown.json()["error"]["message"], "model: claude-x");
}

TEST(SimMessages, ContextLimitsAreCheckedLikeAnthropics) {
  SimServer sim({"--max-model-len", "30"});
  auto r = post(sim.port(), "/v1/messages", messages_body("hi", {{"max_tokens", 100}}));
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find(
                "input length and `max_tokens` exceed context limit: "),
            std::string::npos)
      << r.body;
}

TEST(SimMessages, TakesTheKeyAsXApiKey) {
  SimServer sim({"--api-key", "sk-ant-sim"});
  auto r = post(sim.port(), "/v1/messages", messages_body("hi"));
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(r.json(), Json::parse(R"({"type":"error","error":{"type":"authentication_error",)"
                                  R"("message":"x-api-key header is required"}})"));
  r = post(sim.port(), "/v1/messages", messages_body("hi"), {{"x-api-key", "wrong"}});
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(r.json(), Json::parse(R"({"type":"error","error":{"type":"authentication_error",)"
                                  R"("message":"invalid x-api-key"}})"));
  EXPECT_EQ(post(sim.port(), "/v1/messages", messages_body("hi"),
                 {{"Authorization", "Bearer sk-ant-sim"}})
                .status,
            401)
      << "Anthropic's API does not take the key as a bearer token";
  r = post(sim.port(), "/v1/messages", messages_body("hi"),
           {{"x-api-key", "sk-ant-sim"}, {"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(r.status, 200) << r.body;
  // The other /v1 routes take either form.
  HttpConnection c(sim.port());
  EXPECT_EQ(c.request("GET", "/v1/models", "", {{"x-api-key", "sk-ant-sim"}}).status, 200);
  EXPECT_EQ(c.request("GET", "/v1/models", "", {{"x-api-key", "wrong"}}).status, 401);
}

TEST(SimMessages, FaultsSpeakAnthropicsErrors) {
  {
    SimServer sim({"--fail-429", "1", "--retry-after", "3"});
    auto r = post(sim.port(), "/v1/messages", messages_body("hi"));
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers["retry-after"], "3");
    EXPECT_EQ(r.json()["type"], "error");
    EXPECT_EQ(r.json()["error"]["type"], "rate_limit_error");
  }
  {
    SimServer sim({"--fail-503", "1"});
    auto r = post(sim.port(), "/v1/messages", messages_body("hi"));
    EXPECT_EQ(r.status, 529);
    EXPECT_EQ(r.json()["error"]["type"], "overloaded_error");
    EXPECT_EQ(post(sim.port(), "/v1/completions", {{"prompt", "x"}}).status, 503)
        << "the OpenAI routes keep their 503";
  }
  {
    SimServer sim({"--fail-500", "1"});
    auto r = post(sim.port(), "/v1/messages", messages_body("hi"));
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.json()["error"]["type"], "api_error");
  }
}

TEST(SimMessages, TruncatedAndMalformedStreams) {
  const Json body = messages_body("a fairly long reply to cut in half", {{"stream", true}});
  {
    SimServer sim({"--fail-truncate", "1"});
    auto r = post(sim.port(), "/v1/messages", body);
    EXPECT_EQ(r.status, 200);
    auto events = events_of(r.body);  // every event sent is whole
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events[0].name, "message_start");
    for (const auto& e : events) {
      EXPECT_NE(e.name, "message_delta");
      EXPECT_NE(e.name, "message_stop");
    }
  }
  {
    SimServer sim({"--fail-malformed", "1"});
    auto r = post(sim.port(), "/v1/messages", body);
    EXPECT_EQ(r.status, 200);
    auto lines = split(r.body, '\n');
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[0], "event: message_start");
    ASSERT_TRUE(starts_with(lines[1], "data: "));
    EXPECT_FALSE(Json::accept(lines[1].substr(6)));
    EXPECT_NE(r.body.find("event: message_stop"), std::string::npos);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  }
}

TEST(SimMessages, CountedInStatsAndMetrics) {
  SimServer sim;
  EXPECT_EQ(post(sim.port(), "/v1/messages", messages_body("one")).status, 200);
  EXPECT_EQ(post(sim.port(), "/v1/messages", messages_body("two", {{"stream", true}})).status, 200);
  EXPECT_EQ(post(sim.port(), "/v1/messages", Json{{"model", "sim-model"}}).status, 400);
  HttpConnection c(sim.port());
  Json s = c.request("GET", "/sim/stats").json();
  EXPECT_EQ(s["by_route"]["/v1/messages"], 3);
  EXPECT_EQ(s["successes"], 2);
  auto m = c.request("GET", "/metrics").body;
  EXPECT_NE(m.find("retort_sim_requests_total{route=\"/v1/messages\"} 3"), std::string::npos) << m;
  EXPECT_EQ(c.request("GET", "/v1/messages").status, 405);
}

TEST(SimMessages, ReasoningBecomesAThinkingBlock) {
  SimServer sim({"--mode", "fixed", "--reply",
                 "<think>Two plus two is four.</think>\n\nThe answer is 4.", "--reasoning"});
  Json j = post(sim.port(), "/v1/messages", messages_body("2+2?")).json();
  ASSERT_EQ(j["content"].size(), 2u) << j.dump();
  EXPECT_EQ(j["content"][0]["type"], "thinking");
  EXPECT_EQ(j["content"][0]["thinking"], "Two plus two is four.");
  EXPECT_TRUE(j["content"][0]["signature"].is_string());
  EXPECT_EQ(j["content"][1], Json::parse(R"({"type":"text","text":"\n\nThe answer is 4."})"));

  auto r = post(sim.port(), "/v1/messages", messages_body("2+2?", {{"stream", true}}));
  auto events = events_of(r.body);
  std::string thought, answer;
  std::vector<std::pair<std::string, int>> blocks;  // content_block_start: type, index
  bool signed_thinking = false;
  for (const auto& e : events) {
    if (e.name == "content_block_start") {
      blocks.emplace_back(e.data["content_block"]["type"], e.data["index"]);
    }
    if (e.name != "content_block_delta") continue;
    const Json& d = e.data["delta"];
    if (d["type"] == "thinking_delta") {
      EXPECT_EQ(e.data["index"], 0);
      thought += d["thinking"].get<std::string>();
    } else if (d["type"] == "signature_delta") {
      signed_thinking = true;
    } else if (d["type"] == "text_delta") {
      EXPECT_EQ(e.data["index"], 1);
      answer += d["text"].get<std::string>();
    }
  }
  EXPECT_EQ(thought, "Two plus two is four.");
  EXPECT_EQ(answer, "\n\nThe answer is 4.");
  EXPECT_TRUE(signed_thinking);
  EXPECT_EQ(blocks, (std::vector<std::pair<std::string, int>>{{"thinking", 0}, {"text", 1}}));
  EXPECT_EQ(events.back().name, "message_stop");
}

}  // namespace
}  // namespace retort::sim
