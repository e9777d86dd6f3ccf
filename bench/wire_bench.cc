// wire_bench: client CPU per request spent outside the network, split by step: the cache
// key (request_key), the HTTP call (wire::build_call) and reading a reply
// (wire::parse_reply), for the load-test request shape `retort models --load-test` sends
// and for vLLM-shaped replies. Not a test; see bench/README.md.
//
//   build/bench/wire_bench [N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "providers/client.h"
#include "providers/wire.h"

using namespace retort;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
void timed(const char* name, size_t n, F f) {
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now_s();
    for (size_t i = 0; i < n; ++i) f(i);
    best = std::min(best, now_s() - t0);
  }
  std::printf("| %s | %.2f |\n", name, 1e6 * best / static_cast<double>(n));
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  EndpointOptions eo;
  eo.base_url = "http://127.0.0.1:8000/v1";
  eo.model = "hosted_vllm/Qwen/Qwen3-8B";
  Endpoint ep = resolve_endpoint(eo);
  ExecOptions o;
  std::vector<Request> chat(n), comp(n);
  for (size_t i = 0; i < n; ++i) {
    std::string text = "load test request " + std::to_string(i) + ": say something.";
    chat[i].messages.push_back({"user", text});
    comp[i].prompt = text;
    for (Request* r : {&chat[i], &comp[i]}) {
      r->gen_kwargs = {{"max_gen_toks", 16}, {"temperature", 0}, {"until", {"\n\n", "Question:"}}};
    }
  }
  HttpReply chat_reply, comp_reply;
  chat_reply.status = comp_reply.status = 200;
  chat_reply.body =
      R"({"id":"chatcmpl-7c1b","object":"chat.completion","created":1764000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":null,"content":"The answer is 42, because six times seven is forty-two.","tool_calls":[]},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":23,"total_tokens":39,"completion_tokens":16,"prompt_tokens_details":null},"prompt_logprobs":null,"kv_transfer_params":null})";
  comp_reply.body =
      R"({"id":"cmpl-9a2e","object":"text_completion","created":1764000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"text":" The answer is 42, because six times seven is forty-two.","logprobs":null,"finish_reason":"length","stop_reason":null,"prompt_logprobs":null}],"usage":{"prompt_tokens":12,"total_tokens":28,"completion_tokens":16,"prompt_tokens_details":null},"kv_transfer_params":null})";

  std::printf("# wire bench (n=%zu; best of 5)\n\n| step | us/request |\n|---|---|\n", n);
  size_t sink = 0;
  timed("request_key, chat", n, [&](size_t i) { sink += request_key(ep, chat[i]).size(); });
  timed("request_key, completions", n, [&](size_t i) { sink += request_key(ep, comp[i]).size(); });
  timed("build_call, chat", n,
        [&](size_t i) { sink += wire::build_call(ep, o, {&chat[i]}).body.size(); });
  timed("build_call, completions", n,
        [&](size_t i) { sink += wire::build_call(ep, o, {&comp[i]}).body.size(); });
  std::vector<Response> out;
  timed("parse_reply, chat", n, [&](size_t i) {
    wire::parse_reply(ep, {&chat[i]}, chat_reply, out);
    sink += out[0].text.size();
  });
  timed("parse_reply, completions", n, [&](size_t i) {
    wire::parse_reply(ep, {&comp[i]}, comp_reply, out);
    sink += out[0].text.size();
  });
  timed("parse_reply, chat, DOM reader", n, [&](size_t i) {
    wire::parse_reply(ep, {&chat[i]}, chat_reply, out, true);
    sink += out[0].text.size();
  });

  // A streamed chat reply of 64 token events (vLLM's shape), then usage and [DONE].
  HttpReply stream_reply;
  stream_reply.status = 200;
  stream_reply.content_type = "text/event-stream";
  for (int t = 0; t < 64; ++t) {
    stream_reply.body +=
        "data: {\"id\":\"chatcmpl-7c1b\",\"object\":\"chat.completion.chunk\",\"created\":"
        "1764000000,\"model\":\"Qwen/Qwen3-8B\",\"choices\":[{\"index\":0,\"delta\":{"
        "\"content\":\" tok" +
        std::to_string(t) + "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  }
  stream_reply.body +=
      "data: {\"id\":\"chatcmpl-7c1b\",\"choices\":[],\"usage\":{\"prompt_tokens\":23,"
      "\"completion_tokens\":64}}\n\ndata: [DONE]\n\n";
  timed("parse_reply, chat streamed (64 events)", n / 10, [&](size_t i) {
    wire::parse_reply(ep, {&chat[i]}, stream_reply, out);
    sink += out[0].text.size();
  });
  timed("parse_reply, chat streamed (64 events), DOM reader", n / 10, [&](size_t i) {
    wire::parse_reply(ep, {&chat[i]}, stream_reply, out, true);
    sink += out[0].text.size();
  });

  // Loglikelihood: a vLLM-shaped echo reply for a 600-token prompt (few-shot MMLU size).
  Request ll;
  ll.kind = RequestKind::kLoglikelihood;
  Json tokens = Json::array(), tlp = Json::array(), top = Json::array(), off = Json::array();
  size_t at = 0;
  for (int t = 0; t < 600; ++t) {
    std::string tok = t % 7 == 0 ? " the" : " word" + std::to_string(t % 50);
    ll.prompt += tok;
    tokens.push_back(tok);
    off.push_back(at);
    at += tok.size();
    if (t == 0) {
      tlp.push_back(nullptr);
      top.push_back(nullptr);
    } else {
      double v = -0.01 * (t % 97) - 0.123456789012;
      tlp.push_back(v);
      top.push_back({{tok, v}});
    }
  }
  ll.continuation = " A";
  ll.prompt.resize(ll.prompt.size() - 6);  // the last token is the continuation's
  HttpReply ll_reply;
  ll_reply.status = 200;
  ll_reply.body = Json{{"id", "cmpl-1"},
                       {"object", "text_completion"},
                       {"model", "Qwen/Qwen3-8B"},
                       {"choices",
                        {{{"index", 0},
                          {"text", ll.prompt + ll.continuation},
                          {"logprobs",
                           {{"text_offset", off},
                            {"token_logprobs", tlp},
                            {"tokens", tokens},
                            {"top_logprobs", top}}},
                          {"finish_reason", "length"}}}},
                       {"usage", {{"prompt_tokens", 600}, {"completion_tokens", 1}}}}
                      .dump();
  size_t m = std::max<size_t>(1, n / 20);
  std::printf("| (echo reply: %zu bytes) | |\n", ll_reply.body.size());
  timed("parse_reply, loglikelihood 600 tokens", m, [&](size_t) {
    wire::parse_reply(ep, {&ll}, ll_reply, out);
    sink += out[0].ok;
  });
  timed("parse_reply, loglikelihood 600 tokens, DOM reader", m, [&](size_t) {
    wire::parse_reply(ep, {&ll}, ll_reply, out, true);
    sink += out[0].ok;
  });
  std::fprintf(stderr, "(checksum %zu)\n", sink);
  return 0;
}
