// The evaluation pipeline behind `retort run`: select tasks, load docs, plan every request
// of every task, execute them all through one engine call (so concurrency spans tasks),
// score with scoring/, fill a RunResult and hand it to report/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "cli/run_options.h"
#include "core/request.h"
#include "core/run_result.h"
#include "prompt/prompt.h"
#include "scoring/code_exec.h"
#include "scoring/scoring.h"
#include "tasks/tasks.h"

namespace retort::cli {

// Exit codes of `retort run`.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;          // usage / configuration errors (retort::Error)
constexpr int kExitSomeFailed = 3;     // some requests failed after retries
constexpr int kExitInterrupted = 130;  // Ctrl-C; rerunning resumes from the cache

int run_pipeline(const RunOptions& options);

// Records a finished ("complete", "partial") or "interrupted" run in the results database
// (--db, else the default). A failure is one warning: the run's files are already written.
void record_run(const RunOptions& options, const RunResult& run, const std::string& endpoint_url,
                const std::string& status);

// What `retort rescore` needs to plan a run again without its server: the options that
// decide its prompts and scoring (tasks with absolute paths, include paths, few-shot, chat
// settings, the multiple-choice formulation the run settled on, limit, repeats, seeds, ...).
Json replan_json(const RunOptions& options, const PromptOptions& prompt_options);

// The responses of one planned doc for `retort rescore`, in plan order (each request's
// repeats in turn); kinds: the doc's requests. Throws retort::Error when they cannot be given.
using StoredResponses =
    std::function<std::vector<Response>(const std::string& task, const Sample& planned,
                                        const std::vector<RequestKind>& kinds, int repeats)>;

struct RescoreOptions {
  std::vector<std::string> include_path;  // searched before the recorded ones
  bool confirm_run_unsafe_code = false;
};

// Plans the run described by `plan` (replan_json) again, answers every request from
// `responses` instead of a server, and scores it with the current tasks and scorer. The
// returned RunResult has tasks, groups and plan filled; the caller fills model, config,
// times and statistics.
RunResult rescore_pipeline(const Json& plan, const RescoreOptions& options,
                           const StoredResponses& responses);

// The filter name under which the generative formulation of a multiple_choice task reports
// (metrics "acc,generative" and "no_answer,generative"; samples' "filter").
inline constexpr const char* kGenerativeFilter = "generative";

// Everything planned for one task (exposed for bench/pipeline_bench).
struct TaskRun {
  const TaskSpec* spec = nullptr;
  TaskPlan plan;
  std::vector<FilterPipeline> filters;
  std::vector<MetricSpec> metrics;
  int64_t original_len = 0;
  size_t first_request = 0;  // offset into the flat request list
  size_t num_requests = 0;
  // Docs process_docs left out (reason, count), reported with the task's result.
  std::vector<std::pair<std::string, int64_t>> skipped;
};

// Filters and metrics of a task as the run uses them (bypass under --predict_only); needs
// run.plan planned (its generative_mc decides the formulation's metrics).
void configure_scoring(TaskRun& run, bool predict_only);

// Docs --limit keeps out of n: ceil(n*limit) below 1, else min(n, limit).
int64_t docs_for_limit(std::optional<double> limit, int64_t n);

// Scores one planned task: responses[run.first_request ...] are its answers in plan order
// (moved out). Fills samples, per-doc metrics and aggregates.
// Code tasks (pass@K metrics) run each program in the sandbox, remembering verdicts in
// `verdicts` when given.
TaskResult score_task_run(TaskRun& run, std::vector<Response>& responses,
                          const PromptOptions& prompt_options, int64_t bootstrap_iters,
                          VerdictCache* verdicts = nullptr);
// Whether the task's metrics run code.
bool has_code_metric(const TaskRun& run);
// Whether the task has a math metric (math_equiv, pass@K without language, maj@K).
bool has_math_metric(const TaskRun& run);

}  // namespace retort::cli
