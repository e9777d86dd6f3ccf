// `retort models`: lists what a server serves, checks a model and its capabilities, and (as a
// developer tool for tests and benchmarks) sends N distinct generate requests through the
// full request path: `--load-test N`.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "providers/client.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

void models_on_sigint(int) {
  request_stop();
}

int parse_or_exit(CLI::App& app, const Args& args, bool& exited) {
  std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    exited = true;
    return app.exit(e);
  }
  exited = false;
  return 0;
}

int load_test(const Endpoint& ep, long n, const ExecOptions& opts, bool chat, int max_tokens,
              const std::string& out_path) {
  std::vector<Request> reqs(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    Request& r = reqs[static_cast<size_t>(i)];
    std::string text = "load test request " + std::to_string(i) + ": say something.";
    if (chat) {
      r.messages.push_back({"user", text});
    } else {
      r.prompt = text;
    }
    r.gen_kwargs = {{"max_gen_toks", max_tokens}, {"temperature", 0}};
    r.id = static_cast<uint64_t>(i);
  }
  auto old = std::signal(SIGINT, models_on_sigint);
  RunStats st;
  std::vector<Response> rs = execute(ep, reqs, opts, nullptr, &st);
  std::signal(SIGINT, old);
  if (!out_path.empty()) {
    std::string text;
    for (size_t i = 0; i < rs.size(); ++i) {
      Json j = {{"index", i}, {"ok", rs[i].ok}};
      if (rs[i].ok) {
        j["text"] = rs[i].text;
        j["finish_reason"] = rs[i].finish_reason;
      } else {
        j["error"] = rs[i].error;
      }
      j["cached"] = rs[i].cached;
      j["retries"] = rs[i].retries;
      text += j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    }
    write_file_atomic(out_path, text);
  }
  std::fprintf(stderr,
               "load test: %lld requests: %lld cached, %lld succeeded, %lld failed (%lld "
               "interrupted); %lld HTTP calls, %lld retries; %.2f s (%.0f req/s); latency p50 "
               "%.4f s p99 %.4f s; ttft p50 %.4f s; %lld rate-limited replies, %lld timeouts, "
               "%lld stalls\n",
               static_cast<long long>(st.total), static_cast<long long>(st.cached),
               static_cast<long long>(st.succeeded), static_cast<long long>(st.failed),
               static_cast<long long>(st.interrupted), static_cast<long long>(st.http_calls),
               static_cast<long long>(st.retries), st.elapsed_s,
               st.elapsed_s > 0 ? static_cast<double>(st.succeeded) / st.elapsed_s : 0,
               st.latency_p50_s, st.latency_p99_s, st.ttft_p50_s,
               static_cast<long long>(st.throttled), static_cast<long long>(st.timeouts),
               static_cast<long long>(st.stalls));
  if (interrupted()) {
    std::fprintf(stderr,
                 "interrupted: answered requests are in the cache; run the same command again "
                 "to resume\n");
    return 130;
  }
  if (st.failed > 0) {
    for (const auto& r : rs) {
      if (!r.ok) {
        std::fprintf(stderr, "first failure: %s\n", r.error.c_str());
        break;
      }
    }
    return 1;
  }
  return 0;
}

}  // namespace

int cmd_models(const Args& args) {
  CLI::App app{
      "List the models a server serves; with --model, check that it is served and "
      "what the endpoint can do.",
      "retort models"};
  EndpointOptions eo;
  bool as_json = false, check_logprobs = false;
  double timeout_s = 30;
  app.add_option("--base-url", eo.base_url, "server API root, e.g. http://127.0.0.1:8000/v1");
  app.add_option("--model", eo.model,
                 "model to check (LiteLLM-style prefixes: hosted_vllm/, lm_studio/, openai/, ...)");
  app.add_option("--api-key", eo.api_key, "API key (else the provider's *_API_KEY variable)");
  app.add_option("--api-style", eo.api_style, "auto | chat | completions | anthropic");
  app.add_flag("--json", as_json, "print JSON");
  app.add_flag("--check-logprobs", check_logprobs,
               "with --model: check that prompt logprobs (echo) work, for multiple choice");
  app.add_option("--timeout", timeout_s, "seconds per request");
  // Developer mode: drive the full request path (engine, cache, retries) with N requests.
  long load_n = 0;
  ExecOptions opts;
  bool no_cache = false, chat = false;
  int max_tokens = 16;
  std::string out_path;
  auto* dev = app.add_option_group("developer", "load test (for tests and benchmarks)");
  dev->add_option("--load-test", load_n, "send N distinct generate requests");
  dev->add_option("--concurrency", opts.concurrency, "requests in flight");
  dev->add_option("--cache", opts.cache_path, "response cache file");
  dev->add_flag("--no-cache", no_cache, "do not use the response cache");
  dev->add_option("--out", out_path, "write the answers as JSONL");
  dev->add_flag("--stream", opts.stream, "stream replies (SSE)");
  dev->add_flag("--chat", chat, "use chat completions");
  dev->add_option("--max-tokens", max_tokens, "max tokens per reply");
  dev->add_option("--max-retries", opts.max_retries, "retries per request");
  dev->add_option("--backoff", opts.backoff_base_s, "backoff base seconds");
  dev->add_option("--rpm", opts.rpm, "requests per minute limit");
  dev->add_option("--tpm", opts.tpm, "tokens per minute limit");
  dev->add_option("--stall-timeout", opts.stall_timeout_s,
                  "streams: seconds without data before an attempt fails");
  bool exited = false;
  int rc = parse_or_exit(app, args, exited);
  if (exited) return rc;
  opts.use_cache = !no_cache;
  opts.timeout_s = load_n > 0 ? opts.timeout_s : timeout_s;

  if (eo.base_url.empty() && eo.model.empty()) {
    throw Error("no server given", "--base-url",
                "pass --base-url http://HOST:PORT/v1 (or a prefixed --model such as "
                "lm_studio/NAME)");
  }
  Endpoint ep = resolve_endpoint(eo);
  if (load_n > 0) {
    if (ep.model.empty()) {
      auto ids = list_models(ep, timeout_s);
      if (ids.empty()) throw Error("the server lists no models", ep.base_url, "pass --model");
      ep.model = ids.front();
    }
    return load_test(ep, load_n, opts, chat, max_tokens, out_path);
  }
  if (ep.model.empty()) {
    auto ids = list_models(ep, timeout_s);
    if (as_json) {
      std::printf("%s\n", Json{{"base_url", ep.base_url}, {"models", ids}}.dump(2).c_str());
    } else {
      for (const auto& id : ids) std::printf("%s\n", id.c_str());
      if (ids.empty()) std::fprintf(stderr, "%s serves no models\n", ep.base_url.c_str());
    }
    return 0;
  }
  Capabilities caps = probe(ep, check_logprobs, timeout_s);
  if (as_json) {
    Json j = {{"base_url", ep.base_url},     {"model", ep.model},
              {"provider", ep.provider},     {"api_style", api_style_name(ep.style)},
              {"served", caps.serves_model}, {"models", caps.models},
              {"tokenize", caps.tokenize}};
    if (caps.checked_prompt_logprobs) {
      j["prompt_logprobs"] = caps.prompt_logprobs;
      if (!caps.prompt_logprobs) j["prompt_logprobs_error"] = caps.prompt_logprobs_error;
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s serves %s (%s API)\n", ep.base_url.c_str(), ep.model.c_str(),
                api_style_name(ep.style));
    std::printf("  tokenize endpoint: %s\n", caps.tokenize ? "yes" : "no");
    if (caps.checked_prompt_logprobs) {
      std::printf("  prompt logprobs:   %s\n",
                  caps.prompt_logprobs ? "yes" : caps.prompt_logprobs_error.c_str());
    }
  }
  return caps.checked_prompt_logprobs && !caps.prompt_logprobs ? 1 : 0;
}

}  // namespace retort::cli
