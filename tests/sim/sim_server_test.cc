// Runs the real `retort sim` and talks HTTP to it, checking what a client would see.
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "sim/http_client.h"
#include "sim/tokenizer.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::sim {
namespace {

using retort::testing::SimServer;
using retort::testing::TempDir;
using testing::HttpConnection;
using testing::HttpResponse;
using testing::sse_data;

HttpResponse post(int port, const std::string& path, const Json& body,
                  const std::map<std::string, std::string>& headers = {}, double timeout_s = 10) {
  HttpConnection c(port);
  return c.request("POST", path, body.dump(), headers, timeout_s);
}

HttpResponse get(int port, const std::string& path) {
  HttpConnection c(port);
  return c.request("GET", path);
}

Json stats(int port) {
  return get(port, "/sim/stats").json();
}

Json chat_body(const std::string& user, Json extra = Json::object()) {
  Json b = {{"model", "sim-model"},
            {"messages", Json::array({{{"role", "system"}, {"content", "Be brief."}},
                                      {{"role", "user"}, {"content", user}}})}};
  for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = it.value();
  return b;
}

size_t count_tokens(const std::string& text) {
  return split_pieces(text).size();
}

TEST(SimServer, ModelsHealthAndUnknownRoutes) {
  SimServer sim({"--model", "alpha", "--model", "beta", "--max-model-len", "2048"});
  auto r = get(sim.port(), "/v1/models");
  ASSERT_EQ(r.status, 200) << r.error;
  Json j = r.json();
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][0]["id"], "alpha");
  EXPECT_EQ(j["data"][1]["id"], "beta");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_TRUE(j["data"][0]["created"].is_number_integer());
  EXPECT_EQ(j["data"][0]["owned_by"], "vllm");
  EXPECT_EQ(j["data"][0]["max_model_len"], 2048);

  auto h = get(sim.port(), "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(get(sim.port(), "/v1/nothing").status, 404);
  EXPECT_EQ(get(sim.port(), "/chat/completions").status, 404);
  EXPECT_EQ(get(sim.port(), "/v1/chat/completions").status, 405);
}

TEST(SimServer, ChatEchoesTheLastUserMessageWithUsage) {
  SimServer sim;
  auto r = post(sim.port(), "/v1/chat/completions", chat_body("What is 2+2? Tell me."));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  Json j = r.json();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "sim-model");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "What is 2+2? Tell me.");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  const std::string prompt =
      "<|system|>\nBe brief.\n<|user|>\nWhat is 2+2? Tell me.\n<|assistant|>\n";
  EXPECT_EQ(j["usage"]["prompt_tokens"], count_tokens(prompt));
  EXPECT_EQ(j["usage"]["completion_tokens"], count_tokens("What is 2+2? Tell me."));
  EXPECT_EQ(j["usage"]["total_tokens"],
            count_tokens(prompt) + count_tokens("What is 2+2? Tell me."));

  // /tokenize with messages applies the same template.
  auto t =
      post(sim.port(), "/tokenize",
           {{"model", "sim-model"}, {"messages", chat_body("What is 2+2? Tell me.")["messages"]}});
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(t.json()["count"], count_tokens(prompt));
}

TEST(SimServer, ChatMaxTokensStopAndN) {
  SimServer sim;
  const std::string text = "one two three four five";
  Json j = post(sim.port(), "/v1/chat/completions", chat_body(text, {{"max_tokens", 2}})).json();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "one two");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 2);

  j = post(sim.port(), "/v1/chat/completions",
           chat_body(text, {{"max_completion_tokens", 3}, {"max_tokens", 1}}))
          .json();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "one two three");

  j = post(sim.port(), "/v1/chat/completions",
           chat_body(text, {{"stop", Json::array({" four", " three"})}}))
          .json();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "one two");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");

  j = post(sim.port(), "/v1/chat/completions", chat_body(text, {{"stop", "five"}, {"n", 3}}))
          .json();
  ASSERT_EQ(j["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    EXPECT_EQ(j["choices"][i]["message"]["content"], "one two three four ");
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 3 * count_tokens("one two three four "));
}

TEST(SimServer, ChatLogprobsShape) {
  SimServer sim;
  Json j = post(sim.port(), "/v1/chat/completions",
                chat_body("Hi there", {{"logprobs", true}, {"top_logprobs", 2}}))
               .json();
  const Json& content = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[0]["token"], "Hi");
  EXPECT_EQ(content[1]["token"], " there");
  EXPECT_DOUBLE_EQ(content[1]["logprob"].get<double>(), -0.01);
  EXPECT_EQ(content[1]["bytes"], Json::array({32, 116, 104, 101, 114, 101}));
  ASSERT_EQ(content[1]["top_logprobs"].size(), 2u);
  EXPECT_EQ(content[1]["top_logprobs"][0]["token"], " there");
  EXPECT_LT(content[1]["top_logprobs"][1]["logprob"].get<double>(), -0.01);
}

TEST(SimServer, ChatStreamsChunksUsageAndDone) {
  SimServer sim;
  auto r =
      post(sim.port(), "/v1/chat/completions",
           chat_body("Stream me, please",
                     {{"stream", true}, {"stream_options", {{"include_usage", true}}}, {"n", 2}}));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_NE(r.headers["content-type"].find("text/event-stream"), std::string::npos);
  auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text[2];
  std::string finish[2];
  Json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json c = Json::parse(events[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    if (c["choices"].empty()) {
      usage = c["usage"];
      EXPECT_EQ(i + 2, events.size()) << "usage comes last, before [DONE]";
      continue;
    }
    const Json& ch = c["choices"][0];
    int idx = ch["index"];
    if (ch["delta"].contains("role")) {
      EXPECT_TRUE(text[idx].empty()) << "role chunk comes first";
      EXPECT_EQ(ch["delta"]["role"], "assistant");
    }
    if (ch["delta"].contains("content")) text[idx] += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish[idx] = ch["finish_reason"];
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(text[i], "Stream me, please");
    EXPECT_EQ(finish[i], "stop");
  }
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(usage["completion_tokens"], 2 * count_tokens("Stream me, please"));
}

TEST(SimServer, CompletionsEchoLogprobsLegacyShape) {
  SimServer sim;
  const std::string prompt = "The capital of France is Paris";
  auto r = post(sim.port(), "/v1/completions",
                {{"model", "sim-model"},
                 {"prompt", prompt},
                 {"echo", true},
                 {"logprobs", 1},
                 {"max_tokens", 1},
                 {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["object"], "text_completion");
  const Json& c = j["choices"][0];
  const Json& lp = c["logprobs"];
  const size_t n = count_tokens(prompt);
  ASSERT_EQ(lp["tokens"].size(), n + 1);
  EXPECT_EQ(lp["token_logprobs"].size(), n + 1);
  EXPECT_EQ(lp["top_logprobs"].size(), n + 1);
  EXPECT_EQ(lp["text_offset"].size(), n + 1);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  std::string joined;
  for (size_t i = 0; i < lp["tokens"].size(); ++i) {
    EXPECT_EQ(lp["text_offset"][i], joined.size());
    joined += lp["tokens"][i].get<std::string>();
    if (i == 0) continue;
    const double want = i < n ? -2.0 : -0.01;
    EXPECT_DOUBLE_EQ(lp["token_logprobs"][i].get<double>(), want);
    // The token itself is in its top_logprobs and is the best one (greedy).
    const Json& top = lp["top_logprobs"][i];
    const std::string tok = lp["tokens"][i];
    ASSERT_TRUE(top.contains(tok)) << top.dump();
    for (auto it = top.begin(); it != top.end(); ++it) EXPECT_LE(it.value(), top[tok]);
  }
  EXPECT_EQ(joined, c["text"].get<std::string>());
  EXPECT_EQ(c["text"], prompt + "The");
  EXPECT_EQ(c["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], n);
  EXPECT_EQ(j["usage"]["completion_tokens"], 1);

  // max_tokens 0 gives back just the prompt.
  j = post(sim.port(), "/v1/completions",
           {{"prompt", prompt}, {"echo", true}, {"logprobs", 0}, {"max_tokens", 0}})
          .json();
  EXPECT_EQ(j["choices"][0]["text"], prompt);
  EXPECT_EQ(j["choices"][0]["logprobs"]["tokens"].size(), n);

  // Without echo, text_offset counts from the start of the generated text.
  j = post(sim.port(), "/v1/completions", {{"prompt", "a b c"}, {"logprobs", 2}, {"max_tokens", 5}})
          .json();
  EXPECT_EQ(j["choices"][0]["text"], "a b c");
  EXPECT_EQ(j["choices"][0]["logprobs"]["text_offset"], Json::array({0, 1, 3}));
  EXPECT_EQ(j["choices"][0]["logprobs"]["top_logprobs"][0].size(), 2u);
}

TEST(SimServer, TextOffsetCountsCharactersLikeVllm) {
  SimServer sim;
  // "é" is two bytes but one character: vLLM's offsets index the Python str.
  auto j = post(sim.port(), "/v1/completions",
                {{"prompt", "café au lait"}, {"echo", true}, {"logprobs", 1}, {"max_tokens", 0}})
               .json();
  const Json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"], Json::array({"café", " au", " lait"}));
  EXPECT_EQ(lp["text_offset"], Json::array({0, 4, 7}));
}

TEST(SimServer, CompletionsListPromptsAndTokenPrompts) {
  SimServer sim;
  Json j = post(sim.port(), "/v1/completions",
                {{"prompt", Json::array({"first prompt", "second", "the third one"})},
                 {"max_tokens", 16},
                 {"n", 2}})
               .json();
  ASSERT_EQ(j["choices"].size(), 6u);
  const char* want[] = {"first prompt", "second", "the third one"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    EXPECT_EQ(j["choices"][i]["text"], want[i / 2]);
  }
  EXPECT_EQ(j["usage"]["prompt_tokens"], 2 + 1 + 3);

  // Token prompts: ids from /tokenize come back as text.
  Json ids = post(sim.port(), "/tokenize", {{"prompt", "Hello token world"}}).json()["tokens"];
  ASSERT_EQ(ids.size(), 3u);
  j = post(sim.port(), "/v1/completions", {{"prompt", ids}, {"echo", true}, {"max_tokens", 0}})
          .json();
  EXPECT_EQ(j["choices"][0]["text"], "Hello token world");
  j = post(sim.port(), "/v1/completions",
           {{"prompt", Json::array({ids, Json::array({ids[0]})})}, {"max_tokens", 10}})
          .json();
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][0]["text"], "Hello token world");
  EXPECT_EQ(j["choices"][1]["text"], "Hello");
  auto bad = post(sim.port(), "/v1/completions", {{"prompt", Json::array({1, 99999999})}});
  EXPECT_EQ(bad.status, 400);
}

TEST(SimServer, CompletionsStream) {
  SimServer sim;
  auto r = post(sim.port(), "/v1/completions",
                {{"prompt", Json::array({"alpha beta", "gamma"})},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}});
  ASSERT_TRUE(r.complete);
  auto events = sse_data(r.body);
  ASSERT_EQ(events.back(), "[DONE]");
  std::string text[2];
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json c = Json::parse(events[i]);
    if (c["choices"].empty()) {
      EXPECT_EQ(c["usage"]["prompt_tokens"], 3);
      continue;
    }
    text[c["choices"][0]["index"].get<int>()] += c["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text[0], "alpha beta");
  EXPECT_EQ(text[1], "gamma");
}

TEST(SimServer, TokenizeAndDetokenizeAtTheRoot) {
  SimServer sim({"--max-model-len", "1000"});
  auto r = post(sim.port(), "/tokenize", {{"model", "sim-model"}, {"prompt", "Hello, world!"}});
  ASSERT_EQ(r.status, 200);
  Json j = r.json();
  EXPECT_EQ(j["count"], 4);
  EXPECT_EQ(j["max_model_len"], 1000);
  ASSERT_EQ(j["tokens"].size(), 4u);
  EXPECT_EQ(j["tokens"][2], token_id(" world"));
  Json toks = j["tokens"];
  toks.push_back(12345);  // never produced here
  auto d = post(sim.port(), "/detokenize", {{"model", "sim-model"}, {"tokens", toks}});
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.json()["prompt"], "Hello, world!<unk>");
  EXPECT_EQ(post(sim.port(), "/tokenize", {{"model", "other"}, {"prompt", "x"}}).status, 404);
}

TEST(SimServer, ErrorsLookLikeVllm) {
  SimServer sim({"--max-model-len", "10"});
  auto r = post(
      sim.port(), "/v1/chat/completions",
      {{"model", "gpt-x"}, {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}});
  ASSERT_EQ(r.status, 404);
  Json e = r.json();
  EXPECT_EQ(e["object"], "error");
  EXPECT_EQ(e["message"], "The model `gpt-x` does not exist.");
  EXPECT_EQ(e["type"], "NotFoundError");
  EXPECT_EQ(e["code"], 404);

  HttpConnection c(sim.port());
  auto bad = c.request("POST", "/v1/completions", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["type"], "BadRequestError");

  auto long_prompt = post(sim.port(), "/v1/completions",
                          {{"prompt", "one two three four five six seven eight nine ten eleven"}});
  EXPECT_EQ(long_prompt.status, 400);
  EXPECT_NE(long_prompt.json()["message"].get<std::string>().find(
                "This model's maximum context length is 10 tokens"),
            std::string::npos);
  EXPECT_EQ(post(sim.port(), "/v1/completions", {{"prompt", "a b c"}, {"max_tokens", 8}}).status,
            400);
  EXPECT_EQ(post(sim.port(), "/v1/chat/completions", {{"messages", "nope"}}).status, 400);
  EXPECT_EQ(post(sim.port(), "/v1/completions", {{"prompt", "x"}, {"max_tokens", -1}}).status, 400);
}

TEST(SimServer, ApiKeyIsRequiredOnV1Routes) {
  SimServer sim({"--api-key", "sk-sim-secret"});
  auto r = get(sim.port(), "/v1/models");
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["error"]["code"], "invalid_api_key");
  HttpConnection c(sim.port());
  EXPECT_EQ(c.request("GET", "/v1/models", "", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", "", {{"Authorization", "Bearer sk-sim-secret"}}).status,
            200);
  EXPECT_EQ(post(sim.port(), "/v1/completions", {{"prompt", "x"}},
                 {{"Authorization", "Bearer sk-sim-secret"}})
                .status,
            200);
  EXPECT_EQ(get(sim.port(), "/health").status, 200);
}

TEST(SimServer, FixedModeAndScriptMode) {
  TempDir dir;
  retort::testing::write_text(
      dir.file("rules.jsonl"),
      "# rules for the test\n"
      R"({"pattern": "(?i)capital of france", "reply": "Paris. Final answer: Paris"})"
      "\n"
      R"({"pattern": "Answer: B$", "prompt_logprob": -0.05})"
      "\n");
  {
    SimServer sim({"--script", dir.file("rules.jsonl"), "--reply", "I do not know."});
    Json j = post(sim.port(), "/v1/chat/completions", chat_body("What is the CAPITAL of France?"))
                 .json();
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Paris. Final answer: Paris");
    j = post(sim.port(), "/v1/chat/completions", chat_body("Unrelated")).json();
    EXPECT_EQ(j["choices"][0]["message"]["content"], "I do not know.");
    // Loglikelihood: prompt_logprob for a matching context+continuation.
    for (const auto& [cont, want] : {std::pair{"B", -0.05}, std::pair{"C", -2.0}}) {
      j = post(sim.port(), "/v1/completions",
               {{"prompt", std::string("Question?\nAnswer: ") + cont},
                {"echo", true},
                {"logprobs", 1},
                {"max_tokens", 1}})
              .json();
      const Json& lps = j["choices"][0]["logprobs"]["token_logprobs"];
      EXPECT_TRUE(lps[0].is_null());
      EXPECT_DOUBLE_EQ(lps[1].get<double>(), want) << cont;
    }
  }
  {
    SimServer sim({"--mode", "script", "--script", dir.file("rules.jsonl")});
    Json j = post(sim.port(), "/v1/chat/completions", chat_body("echo me")).json();
    EXPECT_EQ(j["choices"][0]["message"]["content"], "echo me");
  }
  {
    SimServer sim({"--mode", "fixed", "--reply", "The answer is 42."});
    Json j =
        post(sim.port(), "/v1/completions", {{"prompt", "anything"}, {"max_tokens", 3}}).json();
    EXPECT_EQ(j["choices"][0]["text"], "The answer is");
  }
}

TEST(SimServer, BadFlagsAndScriptsAreClearErrors) {
  TempDir dir;
  retort::testing::write_text(dir.file("bad.jsonl"),
                              "{\"pattern\": \"a\", \"reply\": \"b\"}\n\n{\"pattern\": \"(\", "
                              "\"reply\": \"x\"}\n");
  auto r = retort::testing::run_retort({"sim", "--port", "0", "--script", dir.file("bad.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir.file("bad.jsonl") + ":3"), std::string::npos) << r.err;
  r = retort::testing::run_retort({"sim", "--mode", "script"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--script"), std::string::npos) << r.err;
  r = retort::testing::run_retort({"sim", "--fail-429", "1.5"});
  EXPECT_EQ(r.exit_code, 2);
  r = retort::testing::run_retort({"sim", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("retort sim"), std::string::npos) << r.err;
  r = retort::testing::run_retort({"sim", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--fail-stall"), std::string::npos);
}

TEST(SimServer, StatsCountRoutesStatusesAndDuplicates) {
  SimServer sim;
  Json body = {{"prompt", "same body"}, {"max_tokens", 2}};
  EXPECT_EQ(post(sim.port(), "/v1/completions", body).status, 200);
  EXPECT_EQ(stats(sim.port())["duplicate_successes"], 0);
  EXPECT_EQ(post(sim.port(), "/v1/completions", body).status, 200);
  EXPECT_EQ(post(sim.port(), "/v1/completions", {{"prompt", "other"}}).status, 200);
  EXPECT_EQ(post(sim.port(), "/v1/completions", {{"model", "x"}, {"prompt", "y"}}).status, 404);
  get(sim.port(), "/v1/models");
  Json s = stats(sim.port());
  EXPECT_EQ(s["requests_total"], 5);
  EXPECT_EQ(s["by_route"]["/v1/completions"], 4);
  EXPECT_EQ(s["by_route"]["/v1/models"], 1);
  EXPECT_EQ(s["by_status"]["200"], 4);
  EXPECT_EQ(s["by_status"]["404"], 1);
  EXPECT_EQ(s["duplicate_successes"], 1);
  auto m = get(sim.port(), "/metrics");
  EXPECT_NE(m.body.find("vllm:num_requests_running"), std::string::npos);
  EXPECT_NE(m.body.find("vllm:num_requests_waiting"), std::string::npos);
  EXPECT_NE(m.body.find("retort_sim_requests_total{route=\"/v1/completions\"} 4"),
            std::string::npos);
}

class SimFaults : public ::testing::Test {
 protected:
  static Json gen_body(int i) {
    return {{"prompt", "fault test " + std::to_string(i)}, {"max_tokens", 4}};
  }
};

TEST_F(SimFaults, Status429WithRetryAfter) {
  SimServer sim({"--fail-429", "1", "--retry-after", "7"});
  auto r = post(sim.port(), "/v1/completions", gen_body(1));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "7");
  EXPECT_EQ(r.json()["error"]["code"], "rate_limit_exceeded");
  EXPECT_EQ(get(sim.port(), "/v1/models").status, 200) << "only generation routes fail";
  EXPECT_EQ(stats(sim.port())["faults"]["429"], 1);
}

TEST_F(SimFaults, Status500And503) {
  SimServer a({"--fail-500", "1"});
  EXPECT_EQ(post(a.port(), "/v1/chat/completions", chat_body("x")).status, 500);
  SimServer b({"--fail-503", "1.0"});
  EXPECT_EQ(post(b.port(), "/v1/completions", gen_body(1)).status, 503);
}

TEST_F(SimFaults, ResetClosesWithoutAnswer) {
  SimServer sim({"--fail-reset", "1"});
  auto r = post(sim.port(), "/v1/completions", gen_body(1));
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.error == "reset" || r.error == "closed") << r.error;
}

TEST_F(SimFaults, MalformedIs200WithBrokenJson) {
  SimServer sim({"--fail-malformed", "1"});
  auto r = post(sim.port(), "/v1/completions", gen_body(1));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(Json::accept(r.body));
  auto s = post(sim.port(), "/v1/chat/completions", chat_body("x", {{"stream", true}}));
  EXPECT_EQ(s.status, 200);
  auto events = sse_data(s.body);
  ASSERT_FALSE(events.empty());
  EXPECT_FALSE(Json::accept(events[0]));
  EXPECT_EQ(stats(sim.port())["successes"], 0);
}

TEST_F(SimFaults, TruncateCutsBodiesAndStreams) {
  SimServer sim({"--fail-truncate", "1"});
  auto r = post(sim.port(), "/v1/completions", gen_body(1));
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  auto s = post(sim.port(), "/v1/chat/completions",
                chat_body("a fairly long reply to cut in half", {{"stream", true}}));
  EXPECT_EQ(s.status, 200);
  auto events = sse_data(s.body);
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back(), "[DONE]");
  for (const auto& e : events) {
    Json c = Json::parse(e);  // every chunk sent is whole
    EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  }
}

TEST_F(SimFaults, StallNeverAnswers) {
  SimServer sim({"--fail-stall", "1"});
  HttpConnection c(sim.port());
  auto r = c.request("POST", "/v1/completions", gen_body(1).dump(), {}, 0.5);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_EQ(stats(sim.port())["faults"]["stall"], 1);
}

TEST_F(SimFaults, DecisionsAreDeterministicPerSeedAndRetriesCanSucceed) {
  auto statuses = [](const std::string& seed) {
    SimServer sim({"--fail-500", "0.5", "--seed", seed});
    std::string out;
    for (int i = 0; i < 40; ++i) {
      out += post(sim.port(), "/v1/completions", gen_body(i)).status == 200 ? '.' : 'x';
    }
    // Retrying one body eventually gets through: each attempt draws afresh.
    int tries = 0;
    while (post(sim.port(), "/v1/completions", gen_body(0)).status != 200 && tries < 64) ++tries;
    EXPECT_LT(tries, 64);
    return out;
  };
  std::string a = statuses("7");
  EXPECT_EQ(a, statuses("7"));
  EXPECT_NE(a, statuses("8"));
  EXPECT_NE(a.find('.'), std::string::npos);
  EXPECT_NE(a.find('x'), std::string::npos);
}

TEST(SimServer, MaxSeqsQueuesRequests) {
  SimServer sim({"--max-seqs", "1", "--ttft-ms", "60000"});
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<HttpConnection>(sim.port()));
    ASSERT_TRUE(conns.back()->send_request("POST", "/v1/completions",
                                           Json{{"prompt", "queued " + std::to_string(i)}}.dump()));
  }
  Json s;
  for (int i = 0; i < 500; ++i) {
    s = stats(sim.port());
    if (s["running"] == 1 && s["waiting"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(s["running"], 1);
  EXPECT_EQ(s["waiting"], 2);
  auto m = get(sim.port(), "/metrics").body;
  EXPECT_NE(m.find("vllm:num_requests_waiting{model_name=\"sim-model\"} 2"), std::string::npos);
  // Clients that hang up give their place back.
  conns.clear();
  for (int i = 0; i < 500; ++i) {
    s = stats(sim.port());
    if (s["running"] == 0 && s["waiting"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(s["running"], 0);
  EXPECT_EQ(s["waiting"], 0);
}

TEST(SimServer, LatencyModelChangesTimingNotAnswers) {
  SimServer plain;
  SimServer slow({"--ttft-ms", "5", "--tpot-ms", "1", "--max-seqs", "2", "--prefix-cache"});
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += " word" + std::to_string(i);
  for (bool stream : {false, true}) {
    Json body = chat_body(long_text, {{"stream", stream}, {"max_tokens", 30}});
    auto a = post(plain.port(), "/v1/chat/completions", body);
    auto b = post(slow.port(), "/v1/chat/completions", body);
    ASSERT_TRUE(a.complete && b.complete) << b.error;
    if (stream) {
      auto ea = sse_data(a.body), eb = sse_data(b.body);
      ASSERT_EQ(ea.size(), eb.size());
      for (size_t i = 0; i + 1 < ea.size(); ++i) {
        EXPECT_EQ(Json::parse(ea[i])["choices"], Json::parse(eb[i])["choices"]);
      }
    } else {
      EXPECT_EQ(a.json()["choices"], b.json()["choices"]);
      EXPECT_EQ(a.json()["usage"], b.json()["usage"]);
    }
  }
  auto m = get(slow.port(), "/metrics").body;
  // The second request shared the first one's prompt: its leading blocks were cached.
  EXPECT_EQ(m.find("vllm:prefix_cache_hits_total{model_name=\"sim-model\"} 0\n"), std::string::npos)
      << m;
}

TEST(SimServer, PipelinedRequestsAndExpectContinue) {
  SimServer sim;
  HttpConnection c(sim.port());
  std::string one = Json{{"prompt", "first"}}.dump(), two = Json{{"prompt", "second"}}.dump();
  auto req = [](const std::string& body) {
    return "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  ASSERT_TRUE(c.send_raw(req(one) + req(two)));
  EXPECT_EQ(c.read_response().json()["choices"][0]["text"], "first");
  EXPECT_EQ(c.read_response().json()["choices"][0]["text"], "second");

  ASSERT_TRUE(
      c.send_raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 "Content-Length: " +
                 std::to_string(one.size()) + "\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 100);
  ASSERT_TRUE(c.send_raw(one));
  EXPECT_EQ(c.read_response().json()["choices"][0]["text"], "first");

  // "Connection: close" is honoured.
  auto r = c.request("GET", "/health", "", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(SimServer, ConcurrentIdenticalRequestsCountAsDuplicates) {
  SimServer sim({"--ttft-ms", "300"});
  const std::string body = Json{{"prompt", "twice at once"}}.dump();
  HttpConnection a(sim.port()), b(sim.port());
  ASSERT_TRUE(a.send_request("POST", "/v1/completions", body));
  ASSERT_TRUE(b.send_request("POST", "/v1/completions", body));
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_EQ(b.read_response().status, 200);
  Json s = stats(sim.port());
  EXPECT_EQ(s["successes"], 2) << s.dump();
  EXPECT_EQ(s["duplicate_successes"], 1);
  EXPECT_EQ(s["unique_bodies"], 1);
}

TEST(SimServer, ReasoningRepliesSplitLikeVllm) {
  SimServer sim({"--mode", "fixed", "--reply",
                 "<think>Two plus two is four.</think>\n\nThe answer is 4.", "--reasoning"});
  Json j = post(sim.port(), "/v1/chat/completions", chat_body("2+2?")).json();
  const Json& msg = j["choices"][0]["message"];
  EXPECT_EQ(msg["reasoning_content"], "Two plus two is four.");
  EXPECT_EQ(msg["content"], "\n\nThe answer is 4.");
  auto r = post(sim.port(), "/v1/chat/completions", chat_body("2+2?", {{"stream", true}}));
  std::string thought, answer;
  for (const auto& e : sse_data(r.body)) {
    if (e == "[DONE]") continue;
    const Json c = Json::parse(e);
    const Json& d = c["choices"][0]["delta"];
    if (d.contains("reasoning_content")) thought += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) answer += d["content"].get<std::string>();
  }
  EXPECT_EQ(thought, "Two plus two is four.");
  EXPECT_EQ(answer, "\n\nThe answer is 4.");
}

TEST(SimServer, HoldsTwoThousandKeepAliveConnections) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const int n = rl.rlim_cur >= 4500 ? 2000 : static_cast<int>(rl.rlim_cur / 2) - 100;
  ASSERT_GT(n, 500) << "RLIMIT_NOFILE too low for this test";
  SimServer sim;
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<HttpConnection>(sim.port()));
    ASSERT_TRUE(conns.back()->ok()) << i << ": " << conns.back()->error();
  }
  // All of them open at once: each sends a request, then each reads its answer.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(conns[i]->send_request(
          "POST", "/v1/completions",
          Json{{"prompt", "c" + std::to_string(i) + " r" + std::to_string(round)}}.dump()));
    }
    for (int i = 0; i < n; ++i) {
      auto r = conns[i]->read_response(30);
      ASSERT_EQ(r.status, 200) << i << ": " << r.error;
      ASSERT_EQ(r.json()["choices"][0]["text"],
                "c" + std::to_string(i) + " r" + std::to_string(round));
    }
  }
  Json s = stats(sim.port());
  EXPECT_EQ(s["by_route"]["/v1/completions"], 2 * n);
  EXPECT_EQ(s["duplicate_successes"], 0);
}

TEST(SimServer, SigtermShutsDownCleanly) {
  SimServer sim;
  EXPECT_EQ(get(sim.port(), "/health").status, 200);
  kill(sim.process().pid(), SIGTERM);
  EXPECT_EQ(sim.process().wait(), 0);
}

}  // namespace
}  // namespace retort::sim
