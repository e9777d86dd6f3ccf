// Task specs in the lm-evaluation-harness YAML dialect, and the registry that turns what a
// user typed after --tasks (names, globs, groups, tags, YAML files, directories) into the
// tasks to evaluate and the groups over them.
//
// Promises:
//  - `include` is resolved relative to the including file, recursively, with a shallow
//    merge in which the including file's keys win (as lm-eval's load_yaml_config does);
//  - every user mistake in a task file (YAML syntax, wrong type, `!function` with no
//    built-in, unknown output_type, ...) is a retort::Error naming file:line and the key;
//  - unknown keys are a warning naming file:line, never silence;
//  - task names are matched case-insensitively; an unknown name suggests close names.
//
// This module only describes tasks; it loads no data and renders no prompts.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/output_type.h"
#include "data/data.h"
#include "util/json.h"

namespace retort {

struct FewshotConfig {
  std::string sampler = "default";   // "default" (seeded random) or "first_n"
  std::optional<std::string> split;  // already falls back to the task's fewshot_split
  Json samples;                      // null, or a list of docs given inline
  // Overrides of the task's own fields for the shots (null / nullopt = the task's).
  Json doc_to_text, doc_to_target, doc_to_choice, gen_prefix;
  std::optional<std::string> target_delimiter, fewshot_delimiter;
};

struct TaskSpec {
  std::string name;
  std::string alias;  // task_alias ("" = none)
  std::vector<std::string> tags;
  std::string file;  // the YAML file (or the group file for inline tasks)
  int line = 0;

  // The merged config as written (after include), for the results file's `configs` and
  // for `retort tasks show`. `!function` values appear as "!function name".
  Json config = Json::object();
  // key -> "file:line" of where the key was set (the including file or an included one).
  std::map<std::string, std::string> key_where;

  DatasetRef dataset;
  std::optional<std::string> training_split, validation_split, test_split, fewshot_split;

  // A string (column name or Jinja template), a list, a dict, an int; null = unset.
  Json doc_to_text, doc_to_target, doc_to_choice;
  Json description = "";  // column name or template
  Json gen_prefix;        // null = none
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  FewshotConfig fewshot;
  std::optional<int> num_fewshot;
  OutputType output_type = OutputType::kGenerateUntil;
  Json generation_kwargs;  // null = not given (defaults applied by the prompt module)
  int repeats = 1;
  Json filter_list;       // null = the default "none" pipeline (take_first)
  Json metric_list;       // null = the output type's default metrics
  Json version = "Yaml";  // metadata.version when given
  Json metadata = Json::object();

  // Built-in hooks named by `process_docs: !function NAME` / `process_results: ...`, as
  // resolved keys ("" = none). Only names with a built-in reach here; others fail at load
  // time. doc_to_text/target/choice naming a built-in hold {"!function": key}.
  std::string process_docs;
  std::string process_results;

  // Set by a built-in task class (`class: !function ...`, see BuiltinTaskClass):
  // continuations scored by loglikelihood after the same context as the doc's generation,
  // handed to process_results after it as [ll, is_greedy] (generate_until only).
  std::vector<std::string> also_loglikelihood;
  // Why the task cannot be run few-shot ("" = it can).
  std::string fewshot_refusal;

  // "file:line" of key, or of the task when the key was not set.
  std::string where(const std::string& key) const;
  // Eval docs come from test_split if set, else validation_split.
  std::optional<std::string> eval_split() const;
};

struct GroupSpec {
  std::string name;
  std::string alias;  // group_alias
  std::string file;
  int line = 0;
  // Children: names (tasks, groups, tags) or inline task dicts, as written.
  Json task_list = Json::array();
  Json aggregate_metric_list;  // null = the group does not aggregate
  Json metadata = Json::object();
  Json version;  // metadata.version when given
  Json config = Json::object();
};

// One node of what --tasks selected: a leaf task (index into Selection::tasks) or a group.
struct SelectionNode {
  std::string name;
  bool is_group = false;
  size_t task_index = 0;             // leaf
  std::shared_ptr<GroupSpec> group;  // group
  std::vector<SelectionNode> children;
};

struct Selection {
  std::vector<TaskSpec> tasks;       // every leaf task, each once, in selection order
  std::vector<SelectionNode> roots;  // what was asked for, in order
};

// Built-in replacements for lm-eval's Python `!function`s (src/tasks/builtin_hooks.cc).
// Each is keyed "<dir>/<module>.<fn>" after the folder of lm-eval's tasks/ that holds the
// module (e.g. "super_glue/copa/utils.doc_to_text").
//  - process_docs: applied to every split's docs;
//  - doc functions: doc_to_text / doc_to_target / doc_to_choice, one doc in, a value out;
//  - process_results: implemented by scoring (find_process_results_hook); tasks knows names.
using DocProcessor = std::vector<Doc> (*)(std::vector<Doc> docs);
// A process_docs built-in that cannot use a doc (DS-1000: its library is not installed)
// keeps it with this key set to the reason; the doc loader leaves such docs out and counts
// them by reason, so a run reports what it skipped and why.
inline constexpr const char* kSkippedDocKey = "__retort_skipped__";
using DocFunction = Json (*)(const Doc& doc);
//  - filter and metric functions (`filter_fn: !function ...` in a `custom` filter step,
//    `metric: !function ...`): rewritten into retort's own filter step / metric entries.
enum class BuiltinKind {
  kProcessDocs,
  kDocFunction,
  kProcessResults,
  kTaskClass,
  kFilterFunction,
  kMetricFunction
};

// A Python task class lm-eval's YAML names with `class: !function module.Class` (e.g.
// squadv2's `task.SQuAD2`), run natively: the task keys it amounts to in our YAML dialect
// (its doc and result functions as "!function" built-ins), plus what YAML cannot say.
// Keys of the YAML file other than task / task_alias / tag are ignored, as lm-eval does.
struct BuiltinTaskClass {
  const char* key;   // "squadv2/task.SQuAD2"
  Json (*config)();  // {dataset_path: ..., output_type: ..., doc_to_text: {"!function": KEY}}
  std::vector<std::string> also_loglikelihood;
  const char* fewshot_refusal;  // "" = few-shot prompts work
};
const BuiltinTaskClass* find_builtin_task_class(const std::string& key);

// The key of the built-in a task file means by `!function written` (e.g. "utils.doc_to_text"
// in .../super_glue/copa/default.yaml): the key "<dir>/<written>" whose <dir> ends the
// file's folder, else the only key ending in "/<written>"; "" when there is none.
std::string resolve_builtin_function(BuiltinKind kind, const std::string& written,
                                     const std::string& yaml_file);
const DocProcessor* find_builtin_process_docs(const std::string& key);
const DocFunction* find_builtin_doc_function(const std::string& key);
// The filter step a `custom` step with this filter_fn built-in amounts to.
std::optional<Json> builtin_filter_step(const std::string& key);
// The metric_list entries a `metric: !function` built-in amounts to, given its entry (its
// other keys, e.g. humaneval's `k: [1]`).
std::optional<Json> builtin_metric_entries(const std::string& key, const Json& entry);
std::vector<std::string> builtin_function_names();
std::vector<std::string> builtin_process_results_names();

// Names people type (src/tasks/aliases.cc): Evalchemy's and the guides' spellings, matched
// ignoring case and '-', '_', '.', ' ', each naming one lm-eval task, group or tag. The
// registry consults them only for names no task file defines.
struct TaskAlias {
  const char* spelling;
  const char* target;
};
std::optional<std::string> task_alias(const std::string& typed);
std::vector<TaskAlias> task_aliases();
// Benchmark names with no single public dataset: why, and the closest real task.
struct UnavailableTask {
  const char* name;
  const char* reason;
  const char* suggestion;
};
const UnavailableTask* unavailable_task(const std::string& typed);

class TaskRegistry {
 public:
  TaskRegistry();
  ~TaskRegistry();
  TaskRegistry(TaskRegistry&&) noexcept;
  TaskRegistry& operator=(TaskRegistry&&) noexcept;

  // Adds every *.yaml / *.yml file under dir (recursively) to the names known. Nothing is
  // read until a name is looked up (naming only task files by path reads only those, their
  // includes and the members a group file names). A file that fails to parse is remembered
  // and reported only when a name it defines is asked for... or when it is named directly;
  // indexing never fails because of someone else's broken file. Later directories win name
  // clashes (so --include_path can override built-ins).
  void add_dir(const std::string& dir);

  // Keeps an on-disk index of each directory's files under the cache directory
  // ($XDG_CACHE_HOME/retort/task_index/, off with RETORT_TASK_INDEX=off), keyed by path,
  // size and mtime, so that only new or changed files are parsed. Off by default.
  void enable_index_cache();

  // What this registry has read so far (for tests and --verbosity DEBUG).
  struct Stats {
    size_t yaml_files_indexed = 0;  // files looked at while indexing directories
    size_t yaml_files_read = 0;     // files parsed (indexing misses, tasks, includes)
  };
  Stats stats() const;

  // Names known: tasks, groups and tags, each with its kind ("task", "group", "tag") and file.
  struct Entry {
    std::string name;
    std::string kind;
    std::string file;
    std::vector<std::string> members;  // tag members / group children names
  };
  std::vector<Entry> entries() const;

  // Resolves --tasks items (already split on commas): names (case-insensitive), globs,
  // groups, tags, paths to YAML files or directories. Throws retort::Error for unknown
  // names (with suggestions), task file errors, cycles.
  Selection select(const std::vector<std::string>& items) const;

  // Loads one named task's full spec (for `retort tasks show`).
  TaskSpec load_task(const std::string& name) const;

  struct Impl;

 private:
  Selection select_once(const std::vector<std::string>& items) const;
  TaskSpec load_task_once(const std::string& name) const;
  std::unique_ptr<Impl> impl_;
};

// Directories holding built-in tasks: $RETORT_TASKS_DIR if set, else <exe_dir>/../share/
// retort/tasks, <exe_dir>/../tasks, <exe_dir>/tasks and the source tree's tasks/, whichever
// exist (first found only).
std::vector<std::string> builtin_task_dirs();

// Parses one YAML task file (following includes) into a TaskSpec. For tests and tools.
TaskSpec load_task_file(const std::string& path);

// How many eval docs a task had when its data was last loaded (src/tasks/doc_counts.cc), so
// `retort tasks list` can show a number it has seen instead of one written down somewhere.
// Counts are keyed by the task's name and what decides its docs (dataset path, config,
// revision, data_files, eval split, process_docs): a task whose data description changed
// has no count until it is loaded again. They live in $XDG_CACHE_HOME/retort/doc_counts.json
// (~/.cache when unset); RETORT_DOC_COUNTS=off (or no home) turns remembering off.
std::string doc_count_file();
std::string doc_count_key(const TaskSpec& spec);
// Count by key; empty when the file is missing, unreadable or off.
std::map<std::string, int64_t> remembered_doc_counts(const std::string& file);
// Merges counts (key -> count) into the file; best effort (a failure is logged, not thrown).
void remember_doc_counts(const std::string& file, const std::map<std::string, int64_t>& counts);

}  // namespace retort
