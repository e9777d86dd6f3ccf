// The request path's DOM-free pieces keep their promises: request bodies and cache keys are
// byte-for-byte what the DOM-built versions were (so caches written before stay valid), and
// the fast reader of chat/completions replies agrees with the DOM reader on every reply,
// usual or odd.
#include <gtest/gtest.h>

#include <random>

#include "providers/client.h"
#include "providers/wire.h"

namespace retort {
namespace {

Endpoint endpoint(ApiStyle style, const char* url, const char* model) {
  Endpoint e;
  e.base_url = url;
  e.model = model;
  e.style = style;
  e.api_key = "sk-secret";
  e.api_key_env = "X";
  return e;
}

const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse.\nVery."},
    {"user",
     "Tab\there \"quoted\" back\\slash \x01 ctrl \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
     "\xf0\x9f\x98\x80"},
    {"assistant", "4"},
    {"user", "again"}};

struct Golden {
  Endpoint ep;
  Request r;
  bool stream;
  const char* key;
  const char* body;
};

// Keys and bodies recorded from the DOM-built implementation (nlohmann dump) before the
// writer replaced it.
std::vector<Golden> goldens() {
  Endpoint vllm = endpoint(ApiStyle::kAuto, "http://gpu:8000/v1", "Qwen/Qwen3-8B");
  Endpoint o3 = endpoint(ApiStyle::kChat, "https://api.openai.com/v1", "o3-mini");
  Endpoint ant = endpoint(ApiStyle::kAnthropic, "https://api.anthropic.com/v1", "claude-sonnet-4");
  std::vector<Golden> g;
  Request r;
  r.prompt = "Q: caf\xc3\xa9 \x7f \n A:";
  r.gen_kwargs = {{"max_gen_toks", 16}, {"temperature", 0}};
  r.repeat = 1;
  g.push_back(
      {vllm, r, false, "55f84b3fa4ec88da4088f79433bbd7b725a2cdfe80a24c27d1e6f638230bbfd2",
       "{\"prompt\":\"Q: caf\xc3\xa9 \x7f \\n A:\",\"model\":\"Qwen/Qwen3-8B\",\"max_tokens\":16,"
       "\"temperature\":0}"});
  r = Request{};
  r.messages = kConversation;
  r.gen_kwargs = {{"until", {"\n\n", "Question:", "a", "b", "c"}},
                  {"max_gen_toks", 32},
                  {"do_sample", false},
                  {"top_p", 0.9}};
  g.push_back(
      {vllm, r, true, "ce75cea5d5e11932629a7d38e9d429edb97b14c3e3fb85e9754b5b56b69ee556",
       "{\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\\nVery.\"},{\"role\":"
       "\"user\",\"content\":\"Tab\\there \\\"quoted\\\" back\\\\slash \\u0001 ctrl \xc3\xa9 "
       "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"},{\"role\":\"assistant\",\"content\":\"4\"},"
       "{\"role\":\"user\",\"content\":\"again\"}],\"model\":\"Qwen/Qwen3-8B\",\"max_tokens\":32,"
       "\"temperature\":0,\"stop\":[\"\\n\\n\",\"Question:\",\"a\",\"b\"],\"top_p\":0.9,"
       "\"stream\":true,\"stream_options\":{\"include_usage\":true}}"});
  r = Request{};
  r.messages = {{"user", "What is 2+2?"}};
  r.gen_kwargs = {{"until", "\n"},
                  {"max_tokens", 5},
                  {"max_gen_toks", 99},
                  {"temperature", 0.7},
                  {"seed", 1234}};
  r.repeat = 1;
  g.push_back({o3, r, false, "9b1ab5d1b1649534db8b1c3d71bfbbeafb85e76efa94d6a95338eb924a4a4701",
               "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}],\"model\":"
               "\"o3-mini\",\"max_completion_tokens\":5,\"temperature\":1,\"seed\":1234}"});
  r = Request{};
  r.messages = kConversation;
  r.gen_kwargs = {{"max_gen_toks", 2048},
                  {"temperature", 0.6},
                  {"top_p", 0.95},
                  {"top_k", 20},
                  {"min_p", 0},
                  {"repetition_penalty", 1.05},
                  {"n", 1},
                  {"extra", {{"a", {1, 2.5, "z"}}}}};
  r.repeat = 1;
  g.push_back(
      {ant, r, false, "a31e8d05d331143b471214ce834b523f1aa2d83d6353fdb8502dfe6766d52899",
       "{\"model\":\"claude-sonnet-4\",\"max_tokens\":2048,\"system\":\"You are terse.\\nVery.\","
       "\"messages\":[{\"role\":\"user\",\"content\":\"Tab\\there \\\"quoted\\\" back\\\\slash "
       "\\u0001 ctrl \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"},{\"role\":"
       "\"assistant\",\"content\":\"4\"},{\"role\":\"user\",\"content\":\"again\"}],"
       "\"temperature\":0.6,\"top_p\":0.95,\"top_k\":20}"});
  r = Request{};
  r.kind = RequestKind::kLoglikelihood;
  r.prompt = "The capital of France is ";
  r.continuation = "Paris";
  g.push_back({vllm, r, false, "52cc71d8e4f1ec45a69c4218b5993263b6c75bd51e833e74d29b23991b1c6b68",
               "{\"model\":\"Qwen/Qwen3-8B\",\"prompt\":[\"The capital of France is Paris\"],"
               "\"temperature\":0,\"max_tokens\":1,\"logprobs\":1,\"echo\":true}"});
  r = Request{};
  r.messages = {{"user", "What is 2+2?"}};
  // A gen_kwargs member named like a body member replaces it in place.
  r.gen_kwargs = {{"seed", nullptr},
                  {"top_k", 20},
                  {"temperature", 1.0},
                  {"model", "override"},
                  {"stop", {"x"}}};
  g.push_back(
      {vllm, r, false, "522c1dee4d03d0bff7c30d5adef4eef912ed26d21458f2497c3a51e27a524f53",
       "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}],\"model\":"
       "\"override\",\"max_tokens\":256,\"temperature\":1.0,\"stop\":[\"x\"],\"top_k\":20}"});
  return g;
}

TEST(WireFast, BodiesAndCacheKeysAreTheRecordedBytes) {
  for (const Golden& g : goldens()) {
    ExecOptions o;
    o.stream = g.stream;
    EXPECT_EQ(request_key(g.ep, g.r), g.key) << g.body;
    EXPECT_EQ(wire::build_call(g.ep, o, {&g.r}).body, g.body);
  }
}

TEST(WireFast, AnthropicStreamingAsksForAStream) {
  Endpoint ant = endpoint(ApiStyle::kAnthropic, "https://api.anthropic.com/v1", "claude");
  Request r;
  r.messages = {{"user", "hi"}};
  ExecOptions o;
  o.stream = true;
  HttpCall c = wire::build_call(ant, o, {&r});
  EXPECT_TRUE(c.stream);
  Json b = Json::parse(c.body);
  EXPECT_EQ(b["stream"], true);
  EXPECT_FALSE(b.contains("stream_options"));  // an OpenAI field Anthropic does not take
}

// One or two random edits (a byte replaced by one of bytes, or removed).
std::string mutate(std::string d, std::mt19937& rng, const std::string& bytes) {
  int edits = 1 + static_cast<int>(rng() % 2);
  for (int e = 0; e < edits && !d.empty(); ++e) {
    size_t at = rng() % d.size();
    if (rng() % 2) {
      d[at] = bytes[rng() % bytes.size()];
    } else {
      d.erase(at, 1);
    }
  }
  return d;
}

std::vector<std::string> reply_corpus() {
  return {
      R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 4.","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":23,"total_tokens":39,"completion_tokens":16}})",
      R"({"choices":[{"index":0,"text":" four","finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":1}})",
      R"({"choices":[{"message":{"content":"4","reasoning_content":"hm"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":9,"completion_tokens_details":{"audio_tokens":0,"reasoning_tokens":7}}})",
      R"({"choices":[{"text":"a"}],"usage":{"completion_tokens_details":{"reasoning_tokens":2.5,"reasoning_tokens":3}}})",
      R"({"choices":[{"text":"a"}],"usage":{"completion_tokens_details":null,"completion_tokens_details":{}}})",
      R"({"choices":[{"text":"a"}],"usage":{"completion_tokens_details":{"reasoning_tokens":"4"}}})",
      R"({"choices":[{"message":{"content":null,"reasoning_content":"think\u00e9\ud83d\ude00","reasoning":"other"},"finish_reason":"length"}]})",
      R"({"choices":[{"message":{"content":"x","reasoning":"only reasoning"}}],"usage":null})",
      R"({"choices":[{"message":{"content":"x"}},{"message":{"content":"second"}}],"error":null})",
      R"({"choices":[],"usage":{"prompt_tokens":1}})",
      R"({"choices":{"0":{}}})",
      R"({"choices":[5]})",
      R"({"choices":[{"message":"text"}]})",
      R"({"choices":[{"text":1,"finish_reason":null,"message":{"content":["a"]}}]})",
      R"({"error":{"message":"model overloaded","code":503}})",
      R"({"error":"plain error","choices":[{"text":"x"}]})",
      R"({"choices":[{"text":"a","text":"b"}]})",
      R"({"choices":[{"text":"a"}],"choices":[{"text":"b"}]})",
      R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":1.9,"completion_tokens":2e1,"input_tokens":3,"output_tokens":4}})",
      R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":"7","completion_tokens":true}})",
      R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":18446744073709551615}})",
      R"([{"choices":[]}])",
      R"("string")",
      R"({"choices":[{"text":"a"}]} trailing)",
      R"({"choices":[{"text":"half)",
      "{\"choices\":[{\"text\":\"a\"}]}\n",
      "",
  };
}

void expect_same(const std::string& body, const std::vector<const Request*>& batch,
                 const Endpoint& ep, const std::string& what) {
  HttpReply reply;
  reply.status = 200;
  reply.body = body;
  reply.content_type = "application/json";
  std::vector<Response> fast, dom;
  Outcome a = wire::parse_reply(ep, batch, reply, fast);
  Outcome b = wire::parse_reply(ep, batch, reply, dom, true);
  ASSERT_EQ(a.verdict, b.verdict) << what << ": " << body;
  ASSERT_EQ(a.reason, b.reason) << what << ": " << body;
  if (a.verdict != Verdict::kDone) return;
  ASSERT_EQ(fast[0].ok, dom[0].ok) << body;
  ASSERT_EQ(fast[0].text, dom[0].text) << what << ": " << body;
  ASSERT_EQ(fast[0].reasoning, dom[0].reasoning) << what << ": " << body;
  ASSERT_EQ(fast[0].finish_reason, dom[0].finish_reason) << what << ": " << body;
  ASSERT_EQ(fast[0].prompt_tokens, dom[0].prompt_tokens) << what << ": " << body;
  ASSERT_EQ(fast[0].completion_tokens, dom[0].completion_tokens) << what << ": " << body;
  ASSERT_EQ(fast[0].reasoning_tokens, dom[0].reasoning_tokens) << what << ": " << body;
}

TEST(WireFast, ReplyReaderAgreesWithTheDomReader) {
  Endpoint ep = endpoint(ApiStyle::kAuto, "http://gpu:8000/v1", "m");
  Request chat, comp;
  chat.messages = {{"user", "q"}};
  comp.prompt = "q";
  for (const std::string& body : reply_corpus()) {
    expect_same(body, {&chat}, ep, "chat");
    expect_same(body, {&comp}, ep, "completions");
  }
  // Mutations of the corpus: whatever the bytes, both readers say the same.
  std::mt19937 rng(3);
  const std::string bytes = "{}[]\":,0123456789-.etruflasn\\ xchoicesmessagetext";
  auto corpus = reply_corpus();
  for (int n = 0; n < 20000; ++n) {
    std::string d = mutate(corpus[rng() % 5], rng, bytes);  // from the well-formed ones
    expect_same(d, {n % 2 ? &chat : &comp}, ep, "mutation " + std::to_string(n));
  }
}

std::string sse(const std::vector<std::string>& events, bool done = true) {
  std::string out;
  for (const auto& e : events) out += "data: " + e + "\n\n";
  if (done) out += "data: [DONE]\n\n";
  return out;
}

TEST(WireFast, StreamReaderAgreesWithTheDomReader) {
  Endpoint ep = endpoint(ApiStyle::kAuto, "http://gpu:8000/v1", "m");
  Request chat, comp;
  chat.messages = {{"user", "q"}};
  comp.prompt = "q";
  std::vector<std::string> corpus = {
      sse({R"({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
           R"({"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]})",
           R"({"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"hmm","content":"lo \u00e9"},"finish_reason":null}]})",
           R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
           R"({"id":"c","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":2}}})"}),
      sse({R"({"choices":[{"text":"a","finish_reason":null}]})",
           R"({"choices":[{"text":"b","finish_reason":"length"}],"usage":null})"}),
      sse({R"({"choices":[{"delta":{"reasoning":"r1"},"text":"t"},{"delta":{"content":"second"}}]})"}),
      sse({R"({"choices":[{"text":"a"}]})"}, false),
      sse({R"({"choices":[{"text":"a"}]})", R"({"error":{"message":"overloaded","code":503}})"}),
      sse({R"([1,2])", R"({"choices":"x"})", R"({"choices":[{"text":"ok"}]})"}),
      sse({R"({"choices":[{"text":"a","text":"b"}]})"}),
      sse({R"({"choices":[{"delta":"str"}]})"}),
      sse({R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":1.5}})"}),
      sse({R"({"choices":[],"usage":{"completion_tokens_details":{"reasoning_tokens":5}}})",
           R"({"choices":[{"text":"a"}],"usage":{"completion_tokens":1}})"}),
      "data:{\"choices\":[{\"text\":\"nospace\"}]}\r\n\r\ndata:[DONE]\r\n",
      sse({R"({"choices":[{"text":"a"}]} junk)"}),
  };
  auto compare = [&](const std::string& body, const Request* rq, const std::string& what) {
    HttpReply reply;
    reply.status = 200;
    reply.body = body;
    reply.content_type = "text/event-stream";
    reply.ttft_s = 0.25;
    std::vector<Response> fast, dom;
    Outcome a = wire::parse_reply(ep, {rq}, reply, fast);
    Outcome b = wire::parse_reply(ep, {rq}, reply, dom, true);
    ASSERT_EQ(a.verdict, b.verdict) << what << ": " << body;
    ASSERT_EQ(a.reason, b.reason) << what << ": " << body;
    if (a.verdict != Verdict::kDone) return;
    ASSERT_EQ(fast[0].text, dom[0].text) << what << ": " << body;
    ASSERT_EQ(fast[0].reasoning, dom[0].reasoning) << what << ": " << body;
    ASSERT_EQ(fast[0].finish_reason, dom[0].finish_reason) << what << ": " << body;
    ASSERT_EQ(fast[0].prompt_tokens, dom[0].prompt_tokens) << what << ": " << body;
    ASSERT_EQ(fast[0].completion_tokens, dom[0].completion_tokens) << what << ": " << body;
    ASSERT_EQ(fast[0].reasoning_tokens, dom[0].reasoning_tokens) << what << ": " << body;
    ASSERT_EQ(fast[0].ttft_s, dom[0].ttft_s) << what;
  };
  for (const auto& body : corpus) {
    compare(body, &chat, "chat");
    compare(body, &comp, "completions");
  }
  std::mt19937 rng(9);
  const std::string bytes = "{}[]\":,0123456789-.enul \ndata";
  for (int n = 0; n < 10000; ++n) {
    std::string d = mutate(corpus[rng() % 3], rng, bytes);
    compare(d, n % 2 ? &chat : &comp, "mutation " + std::to_string(n));
  }
}

// A vLLM-shaped echo reply for prompts split into the given tokens: the first token has
// no logprob, then token i has logprob -0.1*i and top_logprobs naming it or a better one.
std::string echo_reply(const std::vector<std::vector<std::string>>& prompts) {
  Json choices = Json::array();
  for (size_t p = 0; p < prompts.size(); ++p) {
    Json tokens = Json::array(), tlp = Json::array(), top = Json::array(), off = Json::array();
    size_t at = 0;
    for (size_t i = 0; i < prompts[p].size(); ++i) {
      const std::string& tok = prompts[p][i];
      tokens.push_back(tok);
      off.push_back(at);
      at += tok.size();  // ASCII tokens: bytes = code points
      if (i == 0) {
        tlp.push_back(nullptr);
        top.push_back(nullptr);
      } else {
        double v = -0.1 * static_cast<double>(i);
        tlp.push_back(v);
        top.push_back(i % 3 == 0 ? Json{{"better", v + 0.05}, {tok, v}} : Json{{tok, v}});
      }
    }
    choices.push_back({{"index", p},
                       {"text", "x"},
                       {"logprobs",
                        {{"text_offset", off},
                         {"token_logprobs", tlp},
                         {"tokens", tokens},
                         {"top_logprobs", top}}},
                       {"finish_reason", "length"},
                       {"stop_reason", nullptr},
                       {"prompt_logprobs", nullptr}});
  }
  Json body = {{"id", "cmpl-1"},
               {"object", "text_completion"},
               {"model", "m"},
               {"choices", choices},
               {"usage", {{"prompt_tokens", 9}}}};
  return body.dump();
}

void expect_same_ll(const std::string& body, const std::vector<const Request*>& batch,
                    const std::string& what) {
  Endpoint ep = endpoint(ApiStyle::kAuto, "http://gpu:8000/v1", "m");
  HttpReply reply;
  reply.status = 200;
  reply.body = body;
  std::vector<Response> fast, dom;
  Outcome a = wire::parse_reply(ep, batch, reply, fast);
  Outcome b = wire::parse_reply(ep, batch, reply, dom, true);
  ASSERT_EQ(a.verdict, b.verdict) << what << ": " << body;
  ASSERT_EQ(a.reason, b.reason) << what << ": " << body;
  if (a.verdict != Verdict::kDone) return;
  for (size_t i = 0; i < batch.size(); ++i) {
    ASSERT_EQ(fast[i].loglikelihood, dom[i].loglikelihood) << what << ": " << body;
    ASSERT_EQ(fast[i].is_greedy, dom[i].is_greedy) << what << ": " << body;
    ASSERT_EQ(fast[i].prompt_tokens, dom[i].prompt_tokens) << what << ": " << body;
    ASSERT_EQ(fast[i].finish_reason, dom[i].finish_reason) << what << ": " << body;
  }
}

TEST(WireFast, EchoReaderScoresLikeTheDomReader) {
  Request a, b;
  a.kind = b.kind = RequestKind::kLoglikelihood;
  a.prompt = "The cap ital";
  a.continuation = " is Paris";
  b.prompt = "Two plus two =";
  b.continuation = " four";
  std::vector<std::vector<std::string>> toks = {{"The", " cap", " ital", " is", " Par", "is", "!"},
                                                {"Two", " plus", " two", " =", " four"}};
  std::string usual = echo_reply(toks);
  HttpReply reply;
  reply.status = 200;
  reply.body = usual;
  std::vector<Response> out;
  ASSERT_EQ(wire::parse_reply(endpoint(ApiStyle::kAuto, "http://h/v1", "m"), {&a, &b}, reply, out)
                .verdict,
            Verdict::kDone);
  EXPECT_DOUBLE_EQ(out[0].loglikelihood, -0.3 - 0.4 - 0.5);  // " is", " Par", "is"
  EXPECT_FALSE(out[0].is_greedy);                            // " is" had a better top token
  EXPECT_DOUBLE_EQ(out[1].loglikelihood, -0.4);
  EXPECT_TRUE(out[1].is_greedy);
  EXPECT_EQ(out[0].prompt_tokens, 6);

  std::vector<std::string> corpus = {
      usual,
      R"({"choices":[{"index":1,"logprobs":{"token_logprobs":[null,-1.0],"text_offset":[0,3],"top_logprobs":[null,{"a":-1.0,"a":-0.5}]}},{"index":0,"logprobs":{"token_logprobs":[null,-2],"text_offset":[0,4],"top_logprobs":null}}]})",
      R"({"choices":[{"logprobs":null},{"logprobs":null}]})",
      R"({"choices":[{"logprobs":{"content":[{"token":"a","logprob":-1}]}},{}]})",
      R"({"choices":[{"logprobs":{"token_logprobs":[null,-1],"text_offset":[0,"3"]}},{"logprobs":{"token_logprobs":[null,"x"],"text_offset":[0,1]}}]})",
      R"({"choices":[{"logprobs":{"token_logprobs":[null,-1,-2],"text_offset":[0,1.5,-3]}},{"logprobs":{"token_logprobs":{},"text_offset":[]}}]})",
      R"({"choices":[{"index":0.0,"logprobs":{"token_logprobs":[null,-1],"text_offset":[0,20],"top_logprobs":[{},{"z":"y"}]}},{"index":-1,"logprobs":{"token_logprobs":[null,-1],"text_offset":[0,15]}}]})",
      R"({"choices":[{"logprobs":{"token_logprobs":[],"text_offset":[]}}]})",
      R"({"error":{"message":"busy","code":503}})",
      R"({"choices":"none"})",
      R"({"choices":[]} x)",
  };
  for (const std::string& body : corpus) expect_same_ll(body, {&a, &b}, "corpus");
  std::mt19937 rng(5);
  const std::string bytes = "{}[]\":,0123456789-.enul ";
  for (int n = 0; n < 5000; ++n) {
    std::string d = mutate(corpus[rng() % 2], rng, bytes);
    expect_same_ll(d, {&a, &b}, "mutation " + std::to_string(n));
  }
}

}  // namespace
}  // namespace retort
