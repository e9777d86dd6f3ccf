// report/: everything a run leaves behind for people and tools, made from a finished (or
// interrupted) RunResult and nothing else.
//
// Promises:
//  - results JSON and samples JSONL reproduce lm-evaluation-harness's files byte for byte in
//    schema, key order and value formatting (json.dumps indent=2 / one line, ensure_ascii=False,
//    Python float repr), plus a trailing "retort" section / key with what lm-eval lacks
//    (run statistics, per-request latency, tokens, cache hits and errors);
//  - file names follow lm-eval: {out}/{model_sanitized}/results_{date_id}.json, or
//    {parent}/{stem}_{date_id}.json when out ends in ".json"; samples_{task}_{date_id}.jsonl
//    beside them; every file is written atomically (temp file + rename);
//  - no secret reaches an output: API keys and tokens are removed from config blocks, and
//    every byte written passes through log::redact();
//  - terminal text (score table, statistics table, live progress) is plain text with
//    fixed inputs giving fixed output, so it is testable; only ProgressDisplay writes.
//
// Nothing here calls the engine, providers or scoring: values in, text and files out.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/run_result.h"
#include "core/stats.h"
#include "util/json.h"

namespace retort {

// ---------------------------------------------------------------------------------------
// Files

struct OutputPaths {
  std::string results_json;                // absolute path
  std::vector<std::string> samples_jsonl;  // absolute paths, one per task (log_samples only)
  std::string html;                        // absolute path; empty when not written
};

struct OutputOptions {
  bool log_samples = false;
  bool write_html = true;
  // The moment that names the files (lm-eval: datetime.now() at save time, local time).
  // Unset = now.
  std::optional<std::chrono::system_clock::time_point> now;
  // How many samples per task the HTML sample browser shows.
  size_t html_samples_per_task = 50;
};

// Writes results JSON, samples JSONL (when log_samples) and the HTML report; returns the
// absolute paths. Throws retort::Error when a file cannot be written.
OutputPaths write_outputs(const RunResult& run, const std::string& output_path, bool log_samples);

// The characters (code points) of a reply's reasoning: reasoning_content plus any
// "<think>...</think>" left in its text (all after an unclosed "<think>").
int64_t reasoning_chars(const Response& r);
OutputPaths write_outputs(const RunResult& run, const std::string& output_path,
                          const OutputOptions& options);

// lm-eval's date_id: local-time datetime.isoformat() with ':' replaced by '-', e.g.
// "2024-05-01T12-03-04.000005"; the fraction is omitted when the microseconds are 0.
std::string date_id(std::chrono::system_clock::time_point t);

// lm-eval's sanitize_model_name: runs of any of "<>:/|\?*[] become "__".
std::string sanitize_model_name(std::string_view model_name);

// The paths write_outputs would use (not absolute, nothing written). Tasks name the samples
// files in the given order.
OutputPaths plan_output_paths(const std::string& output_path, const std::string& model_sanitized,
                              const std::string& date_id,
                              const std::vector<std::string>& task_names, bool log_samples);

// ---------------------------------------------------------------------------------------
// Results JSON and samples JSONL

// The whole results document (lm-eval key order, then "retort"). task_hashes is filled only
// with_task_hashes (lm-eval: only when samples are logged) and for tasks that have samples.
Json results_json(const RunResult& run, bool with_task_hashes = true);
// results_json() serialised exactly as lm-eval writes it (json.dumps indent=2,
// ensure_ascii=False), redacted.
std::string results_json_text(const RunResult& run, bool with_task_hashes = true);

// One lm-eval sample record: doc_id, doc, target, arguments, resps, filtered_resps, filter,
// metrics, doc_hash, prompt_hash, target_hash, the per-doc metric values, then "retort".
Json sample_record(const Sample& sample, size_t filter_index);
// All lines of a task's samples file (each without the trailing newline), filter-major as
// lm-eval logs them: every doc for the first filter, then every doc for the next.
std::vector<std::string> sample_lines(const TaskResult& task);

// lm-eval task hash: sha256 of the concatenated doc_hash+prompt_hash+target_hash of the
// task's logged samples (one per doc per filter).
std::string task_hash(const TaskResult& task);
// Hashes of one sample as lm-eval computes them (used when Sample leaves them empty).
std::string doc_hash(const Json& doc);
std::string prompt_hash(const Sample& sample);
std::string target_hash(const Json& target);

// A task's evaluation version: "<first 12 hex of sha256(the task's config as the results
// file writes it)>-s<scorer_version>". Two tasks with the same value were scored the same
// way; the results file keeps it under retort.eval_versions, the results database per task.
std::string eval_version(const Json& task_config, std::string_view scorer_version);

// Removes secret-looking keys (api_key, token, authorization, password, ...) from every
// object in v, recursively; "k=v,..." strings (model_args) lose their secret pairs.
Json strip_secrets(const Json& v);
bool is_secret_key(std::string_view key);

// ---------------------------------------------------------------------------------------
// Terminal tables

// lm-eval's make_table() output for results["results"] (column "results") or
// results["groups"] (column "groups"): the Markdown table with the Tasks/Groups, Version,
// Filter, n-shot, Metric, ↑/↓, Value, ±, Stderr columns. Empty when the column is absent.
std::string format_score_table(const Json& results, const std::string& column = "results");
// Both tables for a run: the tasks table, then the groups table when some group aggregates.
std::string format_score_table(const RunResult& run);
// The line lm-eval prints above its table, from the results' "config" block (secrets
// stripped): "local-completions ({'model': 'm'}), gen_kwargs: (None), limit: 2.0,
// num_fewshot: None, batch_size: 1"
std::string format_run_line(const Json& results);

// The final statistics table (box drawn): requests total / succeeded / failed / cached,
// retries, tokens in / out / average, total time, average time per request, requests/min,
// tokens/s, latency p50/p90/p99. model may be empty.
std::string format_stats_table(const RunStats& stats, const std::string& model = "");

// Prices of hosted APIs, USD per million tokens, by model-name prefix (report/prices.cc).
struct ModelPrice {
  std::string prefix;  // "gpt-4o-mini": matches gpt-4o-mini, gpt-4o-mini-2024-07-18, ...
  double input_per_mtok = 0.0;
  double output_per_mtok = 0.0;
  bool from_file = false;  // the user's --price_table: its matches win over the built-in
};
// The built-in table (public list prices; see prices.cc for the sources and their dates).
const std::vector<ModelPrice>& builtin_prices();
// A price file (a JSON object: prefix -> {"input": USD per 1M, "output": USD per 1M})
// ahead of the built-in table. Throws retort::Error naming the file and entry.
std::vector<ModelPrice> load_price_table(const std::string& path);
// The longest prefix that matches the model id (or its part after the last '/'), among the
// price file's entries first, then the built-in ones; null when none does.
const ModelPrice* find_price(const std::vector<ModelPrice>& table, const std::string& model);
// A server on this machine or a private network (localhost, 127.0.0.0/8, ::1, 10/8,
// 172.16/12, 192.168/16, *.local): its tokens cost nothing.
bool is_local_url(const std::string& base_url);

// RunStats <-> the "retort.stats" object of a results file.
Json stats_json(const RunStats& stats);
RunStats stats_from_json(const Json& j);

// Samples a run's statistics over time for the report's chart: a point at the start, then
// one every interval (doubling, with every other point dropped, past max_points), and the
// final state. Not thread-safe: fed from the engine's progress callback.
class SeriesRecorder {
 public:
  explicit SeriesRecorder(double interval_s = 0.25, size_t max_points = 120)
      : interval_s_(interval_s), max_points_(max_points) {}
  void add(const RunStats& stats);
  // The points, with the final state appended.
  std::vector<SeriesPoint> finish(const RunStats& stats);

 private:
  void push(const RunStats& stats);
  double interval_s_;
  size_t max_points_;
  std::vector<SeriesPoint> points_;
  int64_t last_tokens_ = 0;
};

// An inline SVG chart (no script, no network) of the runs' series: output tokens/s, requests
// in flight and median TTFT over time, one line per run. Empty when no run has 2+ points.
std::string series_chart_svg(
    const std::vector<std::pair<std::string, std::vector<SeriesPoint>>>& runs);

// "1,247"
std::string group_thousands(int64_t n);
// "0:03:12" (H:MM:SS; hours grow as needed)
std::string format_hms(double seconds);

// ---------------------------------------------------------------------------------------
// Live progress

struct TaskProgress {
  std::string name;
  int64_t done = 0;   // requests of this task answered (cached, succeeded or failed)
  int64_t total = 0;  // requests of this task planned
  int64_t failed = 0;
};

struct ProgressOptions {
  FILE* out = stderr;
  // Redraw in place (ANSI). Unset = isatty(out) and TERM is not "dumb".
  std::optional<bool> interactive;
  // Terminal width in columns. 0 = ask the terminal (COLUMNS, then ioctl), else 100.
  int width = 0;
  // Not interactive: print one plain line at most every this many seconds of run time.
  double plain_interval_s = 10.0;
  // Interactive: redraw at most this often (seconds of run time).
  double redraw_interval_s = 0.1;
  // Interactive: at most this many per-task bars (the rest are summed in one line).
  size_t max_task_lines = 12;
};

// Live display of a running evaluation. The pipeline adapts it to the engine's observer:
// on_progress(stats) -> update(stats, tasks). Time comes from RunStats::elapsed_s, so the
// output depends only on the inputs. Thread-safe.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(ProgressOptions options = {});
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  void update(const RunStats& stats, const std::vector<TaskProgress>& tasks);
  // Draws the final state once (always, ignoring the intervals) and leaves the cursor below.
  void finish(const RunStats& stats, const std::vector<TaskProgress>& tasks);
  bool interactive() const { return interactive_; }

  // Formatting, exposed for tests.
  // "Requests: Total: 1,247 • Cached: 0✓ • Success: 1,247✓ • Failed: 0✗ • In flight: 12 •
  //  Req/min: 4.8 • Tok/s: 156.7 • ETA 0:03:12"
  static std::string requests_line(const RunStats& stats);
  // The same, fitted to width columns by leaving out In flight, Cached, Tok/s and Req/min
  // (in that order) before cutting.
  static std::string requests_line(const RunStats& stats, int width);
  // Overall bar: "━━━━╺━━━━  52% • Time Elapsed 0:15:32 • Time Remaining 0:00:00"
  static std::string overall_line(const RunStats& stats, int width);
  // One task: "gsm8k         ━━━━━━━━╺━━━━━━━  52%  650/1,247  (3 failed)"
  static std::string task_line(const TaskProgress& task, size_t name_width, int width);
  // The plain (non-TTY) line: "[0:01:40] 52% 650/1,247 requests • cached 0 • ok 650 •
  //  failed 0 • in flight 12 • 4.8 req/min • 156.7 tok/s • ETA 0:03:12"
  static std::string plain_line(const RunStats& stats);
  // Every line of one interactive frame.
  std::vector<std::string> frame(const RunStats& stats,
                                 const std::vector<TaskProgress>& tasks) const;
  // Seconds left at the current rate; < 0 when unknown.
  static double eta_seconds(const RunStats& stats);

 private:
  void draw(const RunStats& stats, const std::vector<TaskProgress>& tasks);

  ProgressOptions options_;
  bool interactive_ = false;
  int width_ = 100;
  std::mutex mu_;
  size_t lines_drawn_ = 0;
  double last_draw_s_ = -1.0;
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------
// HTML report

// A self-contained HTML page (inline CSS, no external assets): run configuration (secrets
// stripped), the score table with stderr and 95% CI bars, a per-task sample browser (first
// max_samples samples: prompt, response, filtered answer, metric values), run statistics.
// samples maps task name -> sample records (the samples JSONL objects).
std::string render_html(const Json& results,
                        const std::map<std::string, std::vector<Json>>& samples,
                        size_t max_samples = 50);
std::string render_html(const RunResult& run, size_t max_samples = 50);

// A results file read back, with the samples files written beside it (same date_id), for
// `retort report`. Throws retort::Error naming the file when it cannot be read or parsed.
struct LoadedResults {
  Json results;
  std::map<std::string, std::vector<Json>> samples;  // task -> records, file order
  std::vector<std::string> samples_files;
};
LoadedResults load_results(const std::string& results_path);
// Where `retort report` writes its HTML by default: results_X.json -> report_X.html beside it,
// anything else -> the same name with ".html".
std::string default_html_path(const std::string& results_path);

// Text escaped for HTML element content and attribute values.
std::string html_escape(std::string_view text);

}  // namespace retort
