// `retort sim`: flag parsing for the simulator server (src/sim).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "sim/sim.h"
#include "util/error.h"
#include "util/log.h"

namespace retort::cli {

int cmd_sim(const Args& args) {
  sim::SimOptions o;
  CLI::App app{"An OpenAI-compatible simulator server that answers like vLLM (see docs/sim.md).",
               "retort sim"};
  std::vector<std::string> models;
  std::string mode = "echo";
  std::string reply;
  std::optional<int> max_tokens_default;
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port to listen on; 0 picks a free one")->capture_default_str();
  app.add_option("--port-file", o.port_file, "write the bound port to FILE once listening");
  app.add_option("--model", models, "a model name to serve (repeatable; default sim-model)");
  app.add_option("--seed", o.seed, "seed for fault decisions")->capture_default_str();
  app.add_option("--mode", mode, "echo | fixed | script")
      ->check(CLI::IsMember({"echo", "fixed", "script"}))
      ->capture_default_str();
  app.add_option("--reply", reply, "the reply in fixed mode; script mode's fallback");
  app.add_option("--script", o.script_path, "JSONL rules file (implies --mode script)");
  app.add_option("--default-logprob", o.default_logprob,
                 "logprob of echoed prompt tokens no script rule matches")
      ->capture_default_str();
  app.add_option("--api-key", o.api_key,
                 "require 'Authorization: Bearer KEY' on /v1/* "
                 "('x-api-key: KEY' on /v1/messages)");
  app.add_option("--max-model-len", o.max_model_len, "context window in tokens")
      ->capture_default_str();
  app.add_option("--max-tokens-default", max_tokens_default,
                 "max_tokens when a request gives none (default: 16 for completions, the "
                 "rest of the context for chat, as vLLM)");
  app.add_flag("--no-echo", o.no_echo,
               "refuse echo on /v1/completions (400), like servers without prompt logprobs");
  app.add_flag("--reasoning", o.reasoning,
               "return <think>...</think> in chat replies as reasoning_content, like vLLM's "
               "--reasoning-parser");
  app.add_flag("--reasoning-tokens", o.reasoning_tokens,
               "with --reasoning, also send usage.completion_tokens_details.reasoning_tokens "
               "(the tokens before the answer), as OpenAI and DeepSeek do");
  app.add_option("--ttft-ms", o.ttft_ms, "time to first token, ms")->capture_default_str();
  app.add_option("--tpot-ms", o.tpot_ms, "time per output token after the first, ms")
      ->capture_default_str();
  app.add_option("--max-seqs", o.max_seqs, "concurrent sequences (0 = unlimited); others queue")
      ->capture_default_str();
  app.add_flag("--prefix-cache", o.prefix_cache,
               "recently seen prompt prefixes shorten the time to first token");
  app.add_option("--fail-429", o.fail_429, "rate of 429 Too Many Requests");
  app.add_option("--retry-after", o.retry_after_s, "Retry-After seconds sent with a 429")
      ->capture_default_str();
  app.add_option("--fail-500", o.fail_500, "rate of 500 Internal Server Error");
  app.add_option("--fail-503", o.fail_503, "rate of 503 Service Unavailable");
  app.add_option("--fail-reset", o.fail_reset, "rate of connections reset without an answer");
  app.add_option("--fail-malformed", o.fail_malformed, "rate of 200 answers with broken JSON");
  app.add_option("--fail-truncate", o.fail_truncate,
                 "rate of answers cut short (streams end before [DONE])");
  app.add_option("--fail-stall", o.fail_stall,
                 "rate of requests never answered (until the client hangs up)");
  app.add_option("--threads", o.threads, "server threads (0 = one per CPU)")->capture_default_str();
  app.add_flag("--verbose,-v", o.verbose, "log one line per request");

  std::vector<const char*> argv;
  argv.push_back("retort sim");
  for (size_t i = 1; i < args.size(); ++i) argv.push_back(args[i].c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    throw Error(e.what(), "retort sim", "run 'retort sim --help' for the options");
  }

  if (!models.empty()) o.models = models;
  if (app.count("--reply")) o.reply = reply;
  o.max_tokens_default = max_tokens_default;
  if (mode == "fixed") o.mode = sim::Mode::kFixed;
  if (mode == "script" || (!o.script_path.empty() && !app.count("--mode"))) {
    o.mode = sim::Mode::kScript;
  }
  if (!o.script_path.empty() && o.mode != sim::Mode::kScript) {
    throw Error("--script needs --mode script", "retort sim", "drop --mode, or say --mode script");
  }
  if (o.verbose && log::level() > log::Level::kInfo) log::set_level(log::Level::kInfo);

  sim::Server server(o);
  server.run(/*handle_signals=*/true);
  return 0;
}

}  // namespace retort::cli
