// `retort run` / `retort eval`: flag parsing, Ctrl-C handling, then the pipeline.
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "cli/run_pipeline.h"
#include "providers/client.h"

namespace retort::cli {

namespace {
extern "C" void on_sigint(int) {
  request_stop();
}
}  // namespace

int cmd_run(const Args& args) {
  RunOptions options = parse_run_options(args);
  if (options.show_help) {
    std::fputs(run_help().c_str(), stdout);
    return kExitOk;
  }
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return run_pipeline(options);
}

}  // namespace retort::cli
