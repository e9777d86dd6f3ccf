// `retort run` / `retort eval`: flag parsing, Ctrl-C handling, then the pipeline.
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "cli/run_pipeline.h"
#include "providers/client.h"

namespace retort::cli {

namespace {
// First signal: stop sending and let answers in flight arrive; second: abandon them. The
// run then scores and writes what it has. A third one (say, during a long bootstrap) leaves
// at once: every answer is already committed to the cache.
volatile std::sig_atomic_t g_signals = 0;
extern "C" void on_sigint(int) {
  g_signals = g_signals + 1;
  if (g_signals >= 3) _exit(kExitInterrupted);
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
