// Request → body and reply → Response mapping, per lm-eval's API models.
#include "providers/wire.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "util/error.h"

namespace retort {
namespace {

Endpoint openai_endpoint(ApiStyle style = ApiStyle::kAuto) {
  Endpoint ep;
  ep.base_url = "http://127.0.0.1:1/v1";
  ep.model = "m";
  ep.style = style;
  ep.api_key_env = "OPENAI_API_KEY";
  return ep;
}

HttpReply ok(const std::string& body) {
  HttpReply r;
  r.status = 200;
  r.body = body;
  return r;
}

TEST(Wire, ChatBodyFollowsLmEval) {
  Request r;
  r.messages = {{"user", "Q?"}};
  r.gen_kwargs = {{"until", {"a", "b", "c", "d", "e"}},
                  {"max_gen_toks", 32},
                  {"do_sample", false},
                  {"top_p", 0.9}};
  HttpCall c = wire::build_call(openai_endpoint(), ExecOptions{}, {&r});
  EXPECT_EQ(c.url, "http://127.0.0.1:1/v1/chat/completions");
  Json b = Json::parse(c.body);
  EXPECT_EQ(b["model"], "m");
  EXPECT_EQ(b["messages"][0]["content"], "Q?");
  EXPECT_EQ(b["max_tokens"], 32);
  EXPECT_EQ(b["temperature"], 0);
  EXPECT_EQ(b["stop"].size(), 4u);
  EXPECT_FALSE(b.contains("do_sample"));
  EXPECT_EQ(b["top_p"], 0.9);
  EXPECT_FALSE(b.contains("stream"));
}

TEST(Wire, OpenAiApiChatUsesMaxCompletionTokensAndReasoningModelRules) {
  Request r;
  r.messages = {{"user", "Q?"}};
  r.gen_kwargs = {{"until", {"\n\n"}}, {"max_gen_toks", 64}, {"temperature", 0.0}};
  Endpoint ep = openai_endpoint();
  ep.base_url = "https://api.openai.com/v1";
  ep.model = "gpt-4o";
  Json b = Json::parse(wire::build_call(ep, ExecOptions{}, {&r}).body);
  EXPECT_EQ(b["max_completion_tokens"], 64);
  EXPECT_FALSE(b.contains("max_tokens"));
  EXPECT_EQ(b["stop"], Json::array({"\n\n"}));
  EXPECT_EQ(b["temperature"], 0.0);

  ep.model = "o3-mini";
  b = Json::parse(wire::build_call(ep, ExecOptions{}, {&r}).body);
  EXPECT_EQ(b["max_completion_tokens"], 64);
  EXPECT_FALSE(b.contains("stop"));
  EXPECT_EQ(b["temperature"], 1);

  // A compatible server (vLLM, LM Studio) keeps max_tokens and the caller's settings, whatever
  // the model is called.
  ep.base_url = "http://127.0.0.1:8000/v1";
  b = Json::parse(wire::build_call(ep, ExecOptions{}, {&r}).body);
  EXPECT_EQ(b["max_tokens"], 64);
  EXPECT_EQ(b["stop"], Json::array({"\n\n"}));
  EXPECT_EQ(b["temperature"], 0.0);
}

TEST(Wire, CompletionsBodyAndStreaming) {
  Request r;
  r.prompt = "2+2=";
  r.gen_kwargs = {{"until", "\n"}, {"temperature", 0.7}, {"seed", 7}};
  ExecOptions o;
  o.stream = true;
  HttpCall c = wire::build_call(openai_endpoint(), o, {&r});
  EXPECT_EQ(c.url, "http://127.0.0.1:1/v1/completions");
  Json b = Json::parse(c.body);
  EXPECT_EQ(b["prompt"], "2+2=");
  EXPECT_EQ(b["stop"], Json::array({"\n"}));
  EXPECT_EQ(b["temperature"], 0.7);
  EXPECT_EQ(b["seed"], 7);
  EXPECT_EQ(b["max_tokens"], 256);
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_TRUE(c.stream);
}

// The body canonical_text hands back (built once for the cache key) is the body the call
// sends, for chat, completions and Anthropic routes; with streaming the call builds its own.
TEST(Wire, BodyBuiltWithTheKeyIsTheBodySent) {
  Request chat;
  chat.messages = {{"system", "S"}, {"user", "Q \"x\"\n"}};
  chat.gen_kwargs = {{"until", {"\n\n"}}, {"max_gen_toks", 9}, {"seed", 3}};
  Request text;
  text.prompt = "2+2=";
  text.gen_kwargs = {{"until", "\n"}, {"temperature", 0.7}};
  for (ApiStyle style : {ApiStyle::kAuto, ApiStyle::kAnthropic}) {
    for (const Request* r : {&chat, &text}) {
      if (style == ApiStyle::kAnthropic && r == &text) continue;
      Endpoint ep = openai_endpoint(style);
      ExecOptions o;
      std::string body;
      wire::canonical_text(ep, *r, o, &body);
      ASSERT_FALSE(body.empty());
      HttpCall plain = wire::build_call(ep, o, {r});
      EXPECT_EQ(body, plain.body);
      HttpCall reused;
      std::string handed = body;
      wire::build_call(ep, o, {r}, reused, nullptr, &handed);
      EXPECT_EQ(reused.body, plain.body);
      EXPECT_EQ(reused.url, plain.url);
      EXPECT_TRUE(handed.empty());
      o.stream = true;
      handed = body;
      wire::build_call(ep, o, {r}, reused, nullptr, &handed);
      EXPECT_EQ(Json::parse(reused.body)["stream"], true);
    }
  }
}

TEST(Wire, AnthropicBodySeparatesSystemAndNeedsMaxTokens) {
  Request r;
  r.messages = {{"system", "Be brief."}, {"user", "Hi"}};
  r.gen_kwargs = Json{{"until", {"\n\n"}}};
  Endpoint ep = openai_endpoint(ApiStyle::kAnthropic);
  ep.api_key = "sk-ant-secret";
  HttpCall c = wire::build_call(ep, ExecOptions{}, {&r});
  EXPECT_EQ(c.url, "http://127.0.0.1:1/v1/messages");
  Json b = Json::parse(c.body);
  EXPECT_EQ(b["system"], "Be brief.");
  EXPECT_EQ(b["messages"].size(), 1u);
  EXPECT_EQ(b["max_tokens"], 256);
  EXPECT_EQ(b["stop_sequences"], Json::array({"\n\n"}));
  EXPECT_NE(std::find(c.headers.begin(), c.headers.end(), "x-api-key: sk-ant-secret"),
            c.headers.end());
  EXPECT_NE(std::find(c.headers.begin(), c.headers.end(), "anthropic-version: 2023-06-01"),
            c.headers.end());

  std::vector<Response> out;
  Outcome o = wire::parse_reply(
      ep, {&r},
      ok(R"({"content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Hello"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2}})"),
      out);
  ASSERT_EQ(o.verdict, Verdict::kDone);
  EXPECT_EQ(out[0].text, "Hello");
  EXPECT_EQ(out[0].reasoning, "hmm");
  EXPECT_EQ(out[0].finish_reason, "end_turn");
  EXPECT_EQ(out[0].prompt_tokens, 5);
  EXPECT_EQ(out[0].completion_tokens, 2);
}

TEST(Wire, ChatReplyNullContentAndReasoning) {
  Request r;
  r.messages = {{"user", "Q"}};
  std::vector<Response> out;
  Outcome o = wire::parse_reply(
      openai_endpoint(), {&r},
      ok(R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"think"},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":9}})"),
      out);
  ASSERT_EQ(o.verdict, Verdict::kDone);
  EXPECT_TRUE(out[0].ok);
  EXPECT_EQ(out[0].text, "");
  EXPECT_EQ(out[0].reasoning, "think");
  EXPECT_EQ(out[0].finish_reason, "length");
  EXPECT_EQ(out[0].completion_tokens, 9);
}

// usage.completion_tokens_details.reasoning_tokens (OpenAI, DeepSeek) is the reply's
// reasoning token count; absent, null or not an integer (vLLM, LM Studio) it is unknown (-1).
// The scanner and the DOM read it alike, streamed or not.
TEST(Wire, ReasoningTokensFromUsageDetails) {
  Request r;
  r.messages = {{"user", "Q"}};
  const std::string msg =
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"4"},"finish_reason":"stop"}])";
  struct Case {
    std::string usage;
    int64_t want;
  };
  const Case cases[] = {
      {R"({"prompt_tokens":3,"completion_tokens":90,"completion_tokens_details":{"audio_tokens":0,"reasoning_tokens":81}})",
       81},
      {R"({"prompt_tokens":3,"completion_tokens":90})", -1},
      {R"({"prompt_tokens":3,"completion_tokens":90,"completion_tokens_details":null})", -1},
      {R"({"prompt_tokens":3,"completion_tokens":90,"completion_tokens_details":{"reasoning_tokens":null}})",
       -1},
      {R"({"completion_tokens_details":{"reasoning_tokens":0},"completion_tokens":1})", 0},
  };
  for (const auto& c : cases) {
    for (bool dom : {false, true}) {
      std::vector<Response> out;
      ASSERT_EQ(wire::parse_reply(openai_endpoint(), {&r},
                                  ok("{" + msg + R"(,"usage":)" + c.usage + "}"), out, dom)
                    .verdict,
                Verdict::kDone)
          << c.usage;
      EXPECT_EQ(out[0].reasoning_tokens, c.want) << c.usage << " dom " << dom;
      EXPECT_EQ(out[0].text, "4");
    }
    std::string sse =
        "data: "
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"choices\":[],\"usage\":" +
        c.usage + "}\n\ndata: [DONE]\n\n";
    HttpReply rep = ok(sse);
    rep.content_type = "text/event-stream";
    for (bool dom : {false, true}) {
      std::vector<Response> out;
      ASSERT_EQ(wire::parse_reply(openai_endpoint(), {&r}, rep, out, dom).verdict, Verdict::kDone);
      EXPECT_EQ(out[0].reasoning_tokens, c.want) << "stream: " << c.usage << " dom " << dom;
    }
  }
}

TEST(Wire, StreamedChatIsAssembledAndTruncationIsRetried) {
  Request r;
  r.messages = {{"user", "Q"}};
  std::string sse =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"<think>a</think>\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" "
      "B\"},\"finish_reason\":\"stop\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}\n\n";
  HttpReply rep = ok(sse + "data: [DONE]\n\n");
  rep.content_type = "text/event-stream";
  rep.ttft_s = 0.25;
  std::vector<Response> out;
  ASSERT_EQ(wire::parse_reply(openai_endpoint(), {&r}, rep, out).verdict, Verdict::kDone);
  EXPECT_EQ(out[0].text, "<think>a</think> B");  // inline reasoning stays in the text
  EXPECT_EQ(out[0].finish_reason, "stop");
  EXPECT_EQ(out[0].completion_tokens, 2);
  EXPECT_DOUBLE_EQ(out[0].ttft_s, 0.25);
  rep.body = sse;  // no [DONE]
  Outcome o = wire::parse_reply(openai_endpoint(), {&r}, rep, out);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_NE(o.reason.find("truncated"), std::string::npos);
}

TEST(Wire, ErrorsInRepliesAreOneLine) {
  Request r;
  r.prompt = "x";
  std::vector<Response> out;
  Outcome o = wire::parse_reply(openai_endpoint(), {&r}, ok("<html>oops</html>"), out);
  EXPECT_EQ(o.verdict, Verdict::kRetry);
  EXPECT_NE(o.reason.find("not a JSON object"), std::string::npos);
  o = wire::parse_reply(openai_endpoint(), {&r},
                        ok(R"({"error":{"message":"model overloaded","code":400}})"), out);
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.reason, "the server answered 200 with an error: model overloaded");
  HttpReply bad;
  bad.status = 400;
  bad.body = R"({"object":"error","message":"This model's maximum context length is 4096 tokens"})";
  o = wire::parse_reply(openai_endpoint(), {&r}, bad, out);
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.reason, "HTTP 400: This model's maximum context length is 4096 tokens");
  bad.status = 401;
  bad.body = R"({"error":{"message":"Invalid API key"}})";
  o = wire::parse_reply(openai_endpoint(), {&r}, bad, out);
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_NE(o.reason.find("pass --api-key or set OPENAI_API_KEY"), std::string::npos);
  bad.status = 503;
  EXPECT_EQ(wire::parse_reply(openai_endpoint(), {&r}, bad, out).verdict, Verdict::kRetry);
}

TEST(Wire, SplitContextMovesTrailingWhitespace) {
  std::string ctx, cont;
  wire::split_context("Q: x\nA: ", "B", ctx, cont);
  EXPECT_EQ(ctx, "Q: x\nA:");
  EXPECT_EQ(cont, " B");
  wire::split_context("Q\xc2\xa0\xe3\x80\x80", "B", ctx, cont);  // U+00A0, U+3000
  EXPECT_EQ(ctx, "Q");
  EXPECT_EQ(cont,
            "\xc2\xa0\xe3\x80\x80"
            "B");
  wire::split_context("", "B", ctx, cont);
  EXPECT_EQ(ctx, "");
  EXPECT_EQ(cont, "B");
  EXPECT_EQ(wire::code_points("a\xc3\xa9"), 2u);
}

TEST(Wire, LoglikelihoodBatchUsesListPromptAndEcho) {
  Request a, b;
  a.kind = b.kind = RequestKind::kLoglikelihood;
  a.prompt = "Q: x\nA: ";
  a.continuation = "B";
  b.prompt = "Q: x\nA: ";
  b.continuation = "C";
  ExecOptions o;
  HttpCall c = wire::build_call(openai_endpoint(), o, {&a, &b});
  Json body = Json::parse(c.body);
  EXPECT_EQ(body["prompt"], Json::array({"Q: x\nA: B", "Q: x\nA: C"}));
  EXPECT_EQ(body["echo"], true);
  EXPECT_EQ(body["logprobs"], 1);
  EXPECT_EQ(body["max_tokens"], 1);
  EXPECT_EQ(body["temperature"], 0);

  // Tokens: "Q" ":" " x" "\n" "A" ":" " B" + generated "\n". The continuation (" B") starts
  // at offset 7 (= len("Q: x\nA:")), the generated token at 9.
  auto choice = [](int index, double cont_lp, double top_lp) {
    return Json{{"index", index},
                {"text", "Q: x\nA: B\n"},
                {"logprobs",
                 {{"tokens", {"Q", ":", " x", "\n", "A", ":", " B", "\n"}},
                  {"token_logprobs", {nullptr, -1.0, -2.0, -0.5, -0.1, -0.2, cont_lp, -0.3}},
                  {"top_logprobs",
                   {nullptr,
                    {{":", -1.0}},
                    {{" x", -2.0}},
                    {{"\n", -0.5}},
                    {{"A", -0.1}},
                    {{":", -0.2}},
                    {{" B", top_lp}},
                    {{"\n", -0.3}}}},
                  {"text_offset", {0, 1, 2, 4, 5, 6, 7, 9}}}}};
  };
  // Choices arrive out of order; they are matched by index.
  Json reply = {{"choices", {choice(1, -3.0, -0.7), choice(0, -0.7, -0.7)}}};
  std::vector<Response> out;
  ASSERT_EQ(wire::parse_reply(openai_endpoint(), {&a, &b}, ok(reply.dump()), out).verdict,
            Verdict::kDone);
  EXPECT_DOUBLE_EQ(out[0].loglikelihood, -0.7);
  EXPECT_TRUE(out[0].is_greedy);
  EXPECT_DOUBLE_EQ(out[1].loglikelihood, -3.0);
  EXPECT_FALSE(out[1].is_greedy);
  EXPECT_EQ(out[0].prompt_tokens, 7);
}

TEST(Wire, RollingSumsAllButTheFirstToken) {
  Request r;
  r.kind = RequestKind::kLoglikelihoodRolling;
  r.continuation = "a b";
  Json reply = {{"choices",
                 {{{"index", 0},
                   {"logprobs",
                    {{"tokens", {"a", " b", "!"}},
                     {"token_logprobs", {nullptr, -2.5, -9.0}},
                     {"top_logprobs", {nullptr, {{" b", -2.5}}, {{"!", -9.0}}}},
                     {"text_offset", {0, 1, 3}}}}}}}};
  std::vector<Response> out;
  ASSERT_EQ(wire::parse_reply(openai_endpoint(), {&r}, ok(reply.dump()), out).verdict,
            Verdict::kDone);
  EXPECT_DOUBLE_EQ(out[0].loglikelihood, -2.5);
}

TEST(Wire, NewerLogprobsShapeIsACapabilityError) {
  Request r;
  r.kind = RequestKind::kLoglikelihood;
  r.prompt = "Q";
  r.continuation = " A";
  Json reply = {{"choices",
                 {{{"index", 0},
                   {"text", "x"},
                   {"logprobs", {{"content", {{{"token", "x"}, {"logprob", -1.0}}}}}}}}}};
  std::vector<Response> out;
  Outcome o = wire::parse_reply(openai_endpoint(), {&r}, ok(reply.dump()), out);
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_NE(o.reason.find("cannot return prompt logprobs"), std::string::npos);
  EXPECT_NE(o.reason.find("generative variant"), std::string::npos);
}

TEST(Wire, LoglikelihoodOnChatOnlyEndpointIsRefused) {
  Request r;
  r.kind = RequestKind::kLoglikelihood;
  r.prompt = "Q";
  wire::Route route;
  EXPECT_NE(wire::route_for(openai_endpoint(ApiStyle::kChat), r, &route).find("chat-only"),
            std::string::npos);
  EXPECT_EQ(wire::route_for(openai_endpoint(), r, &route), "");
  EXPECT_EQ(route, wire::Route::kCompletions);
}

}  // namespace
}  // namespace retort
