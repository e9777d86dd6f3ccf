// What `retort run` adds for tasks that execute the model's programs (pass@K metrics):
// the consent check and the durable store of verdicts.
#pragma once

#include <memory>
#include <string>

#include "scoring/code_exec.h"
#include "tasks/tasks.h"

namespace retort::cli {

// Throws retort::Error unless the user passed --confirm_run_unsafe_code and the sandbox
// works on this machine (then the error says why it does not).
void check_code_consent(const TaskSpec& task, bool confirmed);

// Verdicts stored in the response cache file (path "" = the default location) under keys
// "exec:" + code_job_key, so a rerun or a rescore does not execute a program again.
// Thread-safe. Returns null (with a warning) when the file cannot be opened.
std::unique_ptr<VerdictCache> open_verdict_cache(const std::string& path);

}  // namespace retort::cli
