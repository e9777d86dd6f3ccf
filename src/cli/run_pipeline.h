// The evaluation pipeline behind `retort run`: select tasks, load docs, plan every request
// of every task, execute them all through one engine call (so concurrency spans tasks),
// score with scoring/, fill a RunResult and hand it to report/.
#pragma once

#include "cli/run_options.h"

namespace retort::cli {

// Exit codes of `retort run`.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;          // usage / configuration errors (retort::Error)
constexpr int kExitSomeFailed = 3;     // some requests failed after retries
constexpr int kExitInterrupted = 130;  // Ctrl-C; rerunning resumes from the cache

int run_pipeline(const RunOptions& options);

}  // namespace retort::cli
