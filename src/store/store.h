// store/: the results database. Every `retort run` records itself here (runs, tasks,
// metrics with stderr and n, and samples: doc id, prompt hash, response, extracted answer,
// verdict) so that runs can be listed, compared and gated later without their files.
//
// Promises:
//  - one schema for SQLite (default: $XDG_DATA_HOME/retort/runs.db) and PostgreSQL
//    (`--db postgresql://...`), versioned in table retort_schema and migrated on open; a
//    database written by a newer retort is refused with a clear message, never altered;
//  - a run is written in one transaction: it is there completely or not at all;
//  - nothing secret is stored: config blocks pass through report's strip_secrets and every
//    text through log::redact; the endpoint is stored without credentials;
//  - StoredRun is also what a results file (plus its samples files) reads into, so compare
//    and gate treat a run id and a results file alike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/run_result.h"
#include "util/json.h"

namespace retort::store {

class SqlDb;

constexpr int kSchemaVersion = 5;

struct StoredMetric {
  std::string metric, filter;
  double value = 0.0;
  std::optional<double> stderr_value;
  int64_t n = 0;  // docs the value was computed over
  bool higher_is_better = true;
};

struct StoredSample {
  int64_t doc_id = 0;
  std::string filter = "none";
  std::string doc_hash, prompt_hash;
  std::string target;
  std::string prompt;             // the first request's context (chat: the messages as JSON)
  std::string response;           // the generated text (all repeats as a JSON list when several)
  int64_t thinking_chars = 0;     // length of the reasoning part of the response(s)
  std::string extracted;          // what the metrics saw (filtered_resps)
  std::optional<double> verdict;  // the task's first metric on this doc
  Json metrics = Json::object();  // metric -> per-doc value (number, or a list per repeat)
  std::string finish_reason;
  bool failed = false;
};

struct StoredTask {
  std::string name;
  std::string kind = "task";  // "task" or "group"
  std::string alias;
  std::string version;       // the task's metadata version
  std::string eval_version;  // config hash + scorer version: same value = same scoring
  int num_fewshot = 0;
  int64_t n_samples = 0, n_original = 0, n_failed = 0;
  std::vector<std::string> subtasks;  // groups: direct children
  std::vector<StoredMetric> metrics;  // in the task's metric order (first = primary)
  std::vector<StoredSample> samples;  // filled when loaded with samples
};

struct StoredRun {
  std::string id;
  std::string model;                // model id as the server knows it
  std::string model_source;         // the --model value
  std::string endpoint;             // base URL without credentials
  std::string status = "complete";  // complete | partial (failed requests) | interrupted
  double started = 0.0;             // unix seconds
  double duration_s = 0.0;
  Json config = Json::object();    // lm-eval config block, secrets stripped
  Json versions = Json::object();  // {"retort": "0.1.0", "git": ...}
  Json stats = Json::object();     // report's stats_json
  // What `retort rescore` needs to plan the run again (cli's replan_json); empty for runs
  // recorded before it was kept, and for results files.
  Json plan = Json::object();
  std::vector<StoredTask> tasks;  // tasks, then groups
  std::string source;             // where it was read from (db or file), for messages

  const StoredTask* task(const std::string& name) const;
};

// A task's evaluation version with the current scorer (report's eval_version and scoring's
// kScorerVersion): "<first 12 hex of sha256(config)>-s<scorer version>".
std::string eval_version(const Json& task_config);

// Converts a finished (or partial) run into its stored form. endpoint: the base URL (any
// credentials are removed). id: empty = a new id from the start time.
StoredRun stored_run_from(const RunResult& run, const std::string& endpoint,
                          const std::string& status, const std::string& id = "");
// A results JSON (lm-eval or retort) with the sample records of its samples files.
StoredRun stored_run_from_results(const Json& results,
                                  const std::map<std::string, std::vector<Json>>& samples,
                                  const std::string& source);

// "20261206-184512-3fa2": start time (UTC) and four hex digits of randomness.
std::string new_run_id(double start_unix);

// $RETORT_DB, else $XDG_DATA_HOME/retort/runs.db, else ~/.local/share/retort/runs.db.
std::string default_db_location();

struct RunSummary {
  std::string id, model, status;
  double started = 0.0, duration_s = 0.0;
  int64_t tasks = 0, samples = 0;
};

class ResultsStore {
 public:
  // location: a file path (SQLite) or a postgresql:// / postgres:// URL. Opens, creates the
  // schema or migrates it. Throws retort::Error naming the database.
  static std::unique_ptr<ResultsStore> open(const std::string& location);
  ~ResultsStore();

  // Records a run (replacing one with the same id) in one transaction; returns its id.
  std::string record(const StoredRun& run);
  // Records a run as it comes out of the pipeline: the rows record(stored_run_from(run,
  // endpoint, status)) writes, streamed from the RunResult without a StoredRun between
  // (what `retort run` does; a new id). Returns the id.
  std::string record(const RunResult& run, const std::string& endpoint, const std::string& status);
  // Newest first. model: only runs whose model contains it (empty = all).
  std::vector<RunSummary> list(const std::string& model = "", size_t limit = 0);
  // Resolves a run reference: a full id, a unique id prefix, "latest", or "latest~N" (the
  // N-th before the latest). Throws retort::Error listing candidates when it is ambiguous
  // or unknown.
  std::string resolve(const std::string& ref);
  // with_samples: each task's per-doc samples too; with_texts: their target, prompt,
  // response and extracted texts as well (`compare` and `gate` pair docs by id, prompt hash
  // and metrics and need none of them; the prompt text is a lookup per row).
  StoredRun load(const std::string& id, bool with_samples, bool with_texts = true);
  // Deletes a run and everything under it; false when there was none.
  bool remove(const std::string& id);
  int schema_version();
  const std::string& where() const;
  const char* engine() const;

 private:
  explicit ResultsStore(std::unique_ptr<SqlDb> db);
  void migrate();
  std::unique_ptr<SqlDb> db_;
};

// Leaderboard: per model, its latest run that has each task; the task's primary metric.
struct LeaderboardCell {
  double value = 0.0;
  std::optional<double> stderr_value;
  std::string metric, run_id;
};
struct LeaderboardRow {
  std::string model;
  std::map<std::string, LeaderboardCell> cells;  // task -> cell
  double mean = 0.0;                             // over the cells present
};
struct Leaderboard {
  std::vector<std::string> tasks;    // columns
  std::vector<LeaderboardRow> rows;  // best mean first
};
Leaderboard build_leaderboard(ResultsStore& store, const std::vector<std::string>& tasks);
// format: "md", "csv" or "json". Throws retort::Error for another format.
std::string format_leaderboard(const Leaderboard& board, const std::string& format);

}  // namespace retort::store
