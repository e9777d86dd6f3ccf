#include <algorithm>
#include <filesystem>
#include <set>

#include "tasks/task_spec_internal.h"
#include "tasks/tasks.h"
#include "tasks/yaml_config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace fs = std::filesystem;
using namespace tasks_internal;

std::string TaskSpec::where(const std::string& key) const {
  auto it = key_where.find(key);
  if (it != key_where.end()) return it->second;
  return file.empty() ? name : file + ":" + std::to_string(line);
}

std::optional<std::string> TaskSpec::eval_split() const {
  if (test_split) return test_split;
  return validation_split;
}

namespace {

std::string str_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

const std::set<std::string>& known_task_keys() {
  static const std::set<std::string> keys = {"task",
                                             "task_alias",
                                             "tag",
                                             "group",
                                             "group_alias",
                                             "include",
                                             "dataset_path",
                                             "dataset_name",
                                             "dataset_kwargs",
                                             "training_split",
                                             "validation_split",
                                             "test_split",
                                             "fewshot_split",
                                             "process_docs",
                                             "doc_to_text",
                                             "doc_to_target",
                                             "doc_to_choice",
                                             "process_results",
                                             "use_prompt",
                                             "description",
                                             "target_delimiter",
                                             "fewshot_delimiter",
                                             "fewshot_config",
                                             "num_fewshot",
                                             "metric_list",
                                             "output_type",
                                             "generation_kwargs",
                                             "repeats",
                                             "filter_list",
                                             "should_decontaminate",
                                             "doc_to_decontamination_query",
                                             "gen_prefix",
                                             "metadata",
                                             "unsafe_code",
                                             "custom_dataset",
                                             "doc_to_image",
                                             "doc_to_audio",
                                             "dataset_revision"};
  return keys;
}

[[noreturn]] void function_error(const std::string& task, const std::string& key, const Json& fn) {
  std::string names = join(builtin_function_names(), ", ");
  throw Error("task '" + task + "': " + key + ": !function " + function_name(fn) +
                  " is Python code, which retort cannot run",
              function_where(fn),
              "retort has built-ins only for: " + names +
                  "; write the logic as a Jinja template, or preprocess the data into a file "
                  "and point dataset_path/data_files at it");
}

std::optional<std::string> opt_string(const YamlConfig& cfg, const std::string& key,
                                      const std::string& task) {
  if (!cfg.value.contains(key) || cfg.value[key].is_null()) return std::nullopt;
  const Json& v = cfg.value[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  throw Error("task '" + task + "': " + key + " must be a string", cfg.where.at(key));
}

int as_int(const Json& v, const std::string& key, const std::string& where,
           const std::string& task) {
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_string()) {
    try {
      size_t pos = 0;
      int n = std::stoi(v.get<std::string>(), &pos);
      if (pos == v.get<std::string>().size()) return n;
    } catch (const std::exception&) {
    }
  }
  throw Error("task '" + task + "': " + key + " must be an integer, got " + v.dump(), where);
}

std::string delimiter(const Json& v, const std::string& key, const std::string& where,
                      const std::string& task) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  throw Error("task '" + task + "': " + key + " must be a string, got " + v.dump(), where);
}

// The YAML file a `!function` value was written in (its "where" without the line number).
std::string function_file(const Json& fn) {
  std::string file = function_where(fn);
  if (auto colon = file.rfind(':'); colon != std::string::npos) file = file.substr(0, colon);
  return file;
}

// A field that may be `!function NAME` with a native built-in: returns the value to keep
// ({"!function": key} for a built-in), or throws naming the hook.
Json field_value(const Json& v, const std::string& key, const std::string& task) {
  if (!is_function(v)) return v;
  std::string file = function_where(v);
  if (auto colon = file.rfind(':'); colon != std::string::npos) file = file.substr(0, colon);
  std::string k = resolve_builtin_function(BuiltinKind::kDocFunction, function_name(v), file);
  if (k.empty()) function_error(task, key, v);
  return Json{{"!function", k}};
}

void check_field(const Json& v, const std::string& key, const std::string& where,
                 const std::string& task) {
  if (is_function(v)) {
    if (key.find("doc_to_") == std::string::npos) function_error(task, key, v);
    field_value(v, key, task);
    return;
  }
  if (v.is_null() || v.is_string() || v.is_array() || v.is_number_integer() || v.is_object())
    return;
  throw Error("task '" + task + "': " + key +
                  " must be a column name, a template, a list or "
                  "a dict, got " +
                  v.dump(),
              where);
}

}  // namespace

namespace tasks_internal {

// A task file naming a Python task class (`class: !function task.SQuAD2`): the built-in
// class's config, under the file's task name, alias and tags.
TaskSpec class_task(const YamlConfig& cfg) {
  const Json& v = cfg.value;
  const std::string name = v["task"].get<std::string>();
  const std::string where =
      cfg.where.count("class") ? cfg.where.at("class") : cfg.file + ":" + std::to_string(cfg.line);
  const Json& c = v["class"];
  std::string key;
  if (is_function(c)) {
    std::string file = function_where(c);
    if (auto colon = file.rfind(':'); colon != std::string::npos) file = file.substr(0, colon);
    key = resolve_builtin_function(BuiltinKind::kTaskClass, function_name(c), file);
  }
  const BuiltinTaskClass* cls = key.empty() ? nullptr : find_builtin_task_class(key);
  if (!cls) {
    std::vector<std::string> known;
    for (const auto& k : builtin_function_names())
      if (find_builtin_task_class(k)) known.push_back(k);
    throw Error("task '" + name + "' is a Python class task (class: " +
                    (is_function(c) ? "!function " + function_name(c) : c.dump()) +
                    "), which retort cannot run",
                where, "retort runs these classes natively: " + join(known, ", "));
  }
  YamlConfig expanded;
  expanded.file = cfg.file;
  expanded.line = cfg.line;
  expanded.value = Json::object();
  expanded.value["task"] = name;
  expanded.where["task"] = cfg.where.count("task") ? cfg.where.at("task") : where;
  for (const char* k : {"task_alias", "tag", "group"})
    if (v.contains(k)) {
      expanded.value[k] = v[k];
      if (cfg.where.count(k)) expanded.where[k] = cfg.where.at(k);
    }
  const Json class_config = cls->config();
  for (auto& [k, x] : class_config.items()) {
    Json value = x;
    if (is_function(value)) value["where"] = where;
    expanded.value[k] = value;
    expanded.where[k] = where;
  }
  for (auto& [k, x] : v.items()) {
    (void)x;
    if (k == "task" || k == "class" || k == "task_alias" || k == "tag" || k == "group") continue;
    log::warn("{}: task '{}': {} is ignored: the class {} defines the task (as in lm-eval)",
              cfg.where.count(k) ? cfg.where.at(k) : where, name, k, key);
  }
  TaskSpec t = task_from_config(expanded);
  t.also_loglikelihood = cls->also_loglikelihood;
  t.fewshot_refusal = cls->fewshot_refusal;
  t.config["class"] = "!function " + function_name(c);
  return t;
}

}  // namespace tasks_internal

namespace {

// The data source: dataset_path/name/revision/kwargs and the splits.
void parse_dataset(const YamlConfig& cfg, TaskSpec& t) {
  const Json& v = cfg.value;
  auto w = [&](const std::string& key) { return t.where(key); };
  if (auto p = opt_string(cfg, "dataset_path", t.name)) t.dataset.path = *p;
  if (auto n = opt_string(cfg, "dataset_name", t.name)) t.dataset.name = *n;
  if (auto r = opt_string(cfg, "dataset_revision", t.name)) t.dataset.revision = *r;
  t.dataset.base_dir = fs::path(cfg.file).parent_path().string();
  if (v.contains("dataset_kwargs") && !v["dataset_kwargs"].is_null()) {
    const Json& kw = v["dataset_kwargs"];
    if (!kw.is_object())
      throw Error("task '" + t.name + "': dataset_kwargs must be a mapping", w("dataset_kwargs"));
    if (kw.contains("revision") && kw["revision"].is_string())
      t.dataset.revision = kw["revision"].get<std::string>();
    if (kw.contains("data_files") && !kw["data_files"].is_null()) {
      const Json& df = kw["data_files"];
      auto files_of = [&](const Json& x) {
        std::vector<std::string> files;
        if (x.is_string()) {
          files.push_back(x.get<std::string>());
        } else if (x.is_array()) {
          for (const auto& f : x) {
            if (!f.is_string())
              throw Error("task '" + t.name + "': data_files entries must be paths",
                          w("dataset_kwargs"));
            files.push_back(f.get<std::string>());
          }
        } else {
          throw Error("task '" + t.name +
                          "': data_files must be a path, a list or a "
                          "split: path mapping",
                      w("dataset_kwargs"));
        }
        return files;
      };
      if (df.is_object()) {
        for (auto& [split, files] : df.items()) t.dataset.data_files[split] = files_of(files);
      } else {
        // datasets.load_dataset(data_files=...) without splits names the split "train".
        t.dataset.data_files["train"] = files_of(df);
      }
    }
  }
  t.training_split = opt_string(cfg, "training_split", t.name);
  t.validation_split = opt_string(cfg, "validation_split", t.name);
  t.test_split = opt_string(cfg, "test_split", t.name);
  t.fewshot_split = opt_string(cfg, "fewshot_split", t.name);
}

// What the prompt is made of: doc_to_*, description, gen_prefix, delimiters.
void parse_prompt_fields(const YamlConfig& cfg, TaskSpec& t) {
  const Json& v = cfg.value;
  auto w = [&](const std::string& key) { return t.where(key); };
  for (const char* key : {"doc_to_text", "doc_to_target", "doc_to_choice"}) {
    if (!v.contains(key)) continue;
    check_field(v[key], key, w(key), t.name);
  }
  if (v.contains("doc_to_text"))
    t.doc_to_text = field_value(v["doc_to_text"], "doc_to_text", t.name);
  if (v.contains("doc_to_target"))
    t.doc_to_target = field_value(v["doc_to_target"], "doc_to_target", t.name);
  if (v.contains("doc_to_choice"))
    t.doc_to_choice = field_value(v["doc_to_choice"], "doc_to_choice", t.name);
  if (v.contains("description") && !v["description"].is_null()) {
    check_field(v["description"], "description", w("description"), t.name);
    t.description = v["description"];
  }
  if (v.contains("gen_prefix") && !v["gen_prefix"].is_null()) {
    check_field(v["gen_prefix"], "gen_prefix", w("gen_prefix"), t.name);
    t.gen_prefix = v["gen_prefix"];
  }
  if (v.contains("target_delimiter"))
    t.target_delimiter =
        delimiter(v["target_delimiter"], "target_delimiter", w("target_delimiter"), t.name);
  if (v.contains("fewshot_delimiter"))
    t.fewshot_delimiter =
        delimiter(v["fewshot_delimiter"], "fewshot_delimiter", w("fewshot_delimiter"), t.name);
}

// What is asked of the model: output_type, num_fewshot, repeats, generation_kwargs.
void parse_requests(const YamlConfig& cfg, TaskSpec& t) {
  const Json& v = cfg.value;
  auto w = [&](const std::string& key) { return t.where(key); };
  if (v.contains("output_type") && !v["output_type"].is_null()) {
    std::string ot = v["output_type"].is_string() ? v["output_type"].get<std::string>() : "";
    if (ot == "generate_until")
      t.output_type = OutputType::kGenerateUntil;
    else if (ot == "multiple_choice")
      t.output_type = OutputType::kMultipleChoice;
    else if (ot == "loglikelihood")
      t.output_type = OutputType::kLoglikelihood;
    else if (ot == "loglikelihood_rolling")
      t.output_type = OutputType::kLoglikelihoodRolling;
    else
      throw Error("task '" + t.name + "': unknown output_type " + v["output_type"].dump(),
                  w("output_type"),
                  "use generate_until, multiple_choice, loglikelihood or loglikelihood_rolling");
  }
  if (v.contains("num_fewshot") && !v["num_fewshot"].is_null())
    t.num_fewshot = as_int(v["num_fewshot"], "num_fewshot", w("num_fewshot"), t.name);
  if (v.contains("repeats") && !v["repeats"].is_null()) {
    t.repeats = as_int(v["repeats"], "repeats", w("repeats"), t.name);
    if (t.repeats < 1)
      throw Error("task '" + t.name + "': repeats must be at least 1", w("repeats"));
  }
  if (v.contains("generation_kwargs") && !v["generation_kwargs"].is_null()) {
    if (!v["generation_kwargs"].is_object())
      throw Error("task '" + t.name + "': generation_kwargs must be a mapping",
                  w("generation_kwargs"));
    t.generation_kwargs = v["generation_kwargs"];
  }
}

// How replies are scored: filter_list, metric_list, metadata, process_docs/results hooks.
void parse_scoring(const YamlConfig& cfg, TaskSpec& t) {
  const Json& v = cfg.value;
  auto w = [&](const std::string& key) { return t.where(key); };
  if (v.contains("filter_list") && !v["filter_list"].is_null()) {
    const Json& fl = v["filter_list"];
    if (!fl.is_array())
      throw Error("task '" + t.name + "': filter_list must be a list of {name, filter}",
                  w("filter_list"));
    t.filter_list = fl;
    for (auto& f : t.filter_list) {
      if (!f.is_object() || !f.contains("filter") || !f["filter"].is_array())
        throw Error("task '" + t.name +
                        "': each filter_list entry needs a name and a "
                        "'filter' list of steps",
                    w("filter_list"));
      for (auto& step : f["filter"]) {
        if (!step.is_object() || !step.contains("function"))
          throw Error("task '" + t.name + "': each filter step needs 'function'", w("filter_list"));
        // lm-eval's `function: custom` step runs filter_fn(resps, docs): a built-in stands in.
        if (step["function"] == "custom" && step.contains("filter_fn") &&
            is_function(step["filter_fn"])) {
          const Json& fn = step["filter_fn"];
          std::string k = resolve_builtin_function(BuiltinKind::kFilterFunction, function_name(fn),
                                                   function_file(fn));
          if (k.empty()) function_error(t.name, "filter_list.filter_fn", fn);
          step = builtin_filter_step(k).value_or(step);
          continue;
        }
        for (auto& [k, x] : step.items())
          if (is_function(x)) function_error(t.name, "filter_list." + k, x);
      }
    }
  }
  if (v.contains("metric_list") && !v["metric_list"].is_null()) {
    const Json& ml = v["metric_list"];
    if (!ml.is_array())
      throw Error("task '" + t.name + "': metric_list must be a list of {metric: ...}",
                  w("metric_list"));
    t.metric_list = Json::array();
    for (const auto& m : ml) {
      if (!m.is_object() || !m.contains("metric"))
        throw Error("task '" + t.name + "': each metric_list entry needs 'metric'",
                    w("metric_list"));
      // `metric: !function utils.pass_at_k` (humaneval, mbpp): a built-in stands in.
      if (is_function(m["metric"])) {
        const Json& fn = m["metric"];
        std::string k = resolve_builtin_function(BuiltinKind::kMetricFunction, function_name(fn),
                                                 function_file(fn));
        if (k.empty()) function_error(t.name, "metric_list.metric", fn);
        try {
          Json entries = builtin_metric_entries(k, m).value_or(Json::array());
          for (auto& e : entries) t.metric_list.push_back(e);
        } catch (const Error& e) {
          throw Error("task '" + t.name + "': " + e.what_failed(), w("metric_list"));
        }
        continue;
      }
      for (auto& [k, x] : m.items())
        if (is_function(x)) function_error(t.name, "metric_list." + k, x);
      t.metric_list.push_back(m);
    }
  }
  if (v.contains("metadata") && v["metadata"].is_object()) {
    t.metadata = v["metadata"];
    if (t.metadata.contains("version")) t.version = t.metadata["version"];
  }
  for (const char* key : {"process_docs", "process_results"}) {
    if (!v.contains(key) || v[key].is_null()) continue;
    const Json& f = v[key];
    if (!is_function(f))
      throw Error(std::string("task '") + t.name + "': " + key + " must be `!function NAME`",
                  w(key));
    std::string file = function_where(f);
    if (auto colon = file.rfind(':'); colon != std::string::npos) file = file.substr(0, colon);
    const bool docs = std::string(key) == "process_docs";
    std::string k = resolve_builtin_function(
        docs ? BuiltinKind::kProcessDocs : BuiltinKind::kProcessResults, function_name(f), file);
    if (k.empty()) function_error(t.name, key, f);
    (docs ? t.process_docs : t.process_results) = k;
  }
  if (v.contains("use_prompt") && !v["use_prompt"].is_null())
    throw Error("task '" + t.name + "': use_prompt (promptsource) is not supported",
                w("use_prompt"), "write the prompt with doc_to_text / doc_to_target instead");
}

// fewshot_config, with fallbacks to the task's own fields.
void parse_fewshot_config(const YamlConfig& cfg, TaskSpec& t) {
  const Json& v = cfg.value;
  auto w = [&](const std::string& key) { return t.where(key); };
  t.fewshot.split = t.fewshot_split;
  if (v.contains("fewshot_config") && !v["fewshot_config"].is_null()) {
    const Json& fc = v["fewshot_config"];
    const std::string fw = w("fewshot_config");
    if (!fc.is_object()) throw Error("task '" + t.name + "': fewshot_config must be a mapping", fw);
    for (auto& [k, x] : fc.items()) {
      if (k == "sampler") {
        if (!x.is_string() || (x != "default" && x != "first_n"))
          throw Error(
              "task '" + t.name + "': fewshot_config.sampler must be 'default' or 'first_n'", fw);
        t.fewshot.sampler = x.get<std::string>();
      } else if (k == "split") {
        if (!x.is_null()) t.fewshot.split = str_of(x);
      } else if (k == "samples") {
        if (is_function(x)) {
          // A built-in that lists the exemplars (minerva_math's list_fewshot_samples).
          Json f = field_value(x, "fewshot_config.samples", t.name);
          const DocFunction* fn = find_builtin_doc_function(f["!function"].get<std::string>());
          Json samples = fn ? (*fn)(Json::object()) : Json();
          if (!samples.is_array()) function_error(t.name, "fewshot_config.samples", x);
          t.fewshot.samples = std::move(samples);
          continue;
        }
        if (!x.is_array())
          throw Error("task '" + t.name + "': fewshot_config.samples must be a list of docs", fw);
        t.fewshot.samples = x;
      } else if (k == "doc_to_text" || k == "doc_to_target" || k == "doc_to_choice" ||
                 k == "gen_prefix") {
        check_field(x, "fewshot_config." + k, fw, t.name);
        Json val = field_value(x, "fewshot_config." + k, t.name);
        if (k == "doc_to_text") t.fewshot.doc_to_text = val;
        if (k == "doc_to_target") t.fewshot.doc_to_target = val;
        if (k == "doc_to_choice") t.fewshot.doc_to_choice = val;
        if (k == "gen_prefix") t.fewshot.gen_prefix = x;
      } else if (k == "target_delimiter") {
        t.fewshot.target_delimiter = delimiter(x, "fewshot_config.target_delimiter", fw, t.name);
      } else if (k == "fewshot_delimiter") {
        t.fewshot.fewshot_delimiter = delimiter(x, "fewshot_config.fewshot_delimiter", fw, t.name);
      } else if (k == "fewshot_indices") {
        // lm-eval accepts and ignores it (never passed to the sampler).
      } else {
        log::warn("{}: task '{}': unknown fewshot_config key '{}' is ignored", fw, t.name, k);
      }
    }
  }
}

}  // namespace

namespace tasks_internal {

TaskSpec task_from_config(const YamlConfig& cfg) {
  TaskSpec t;
  const Json& v = cfg.value;
  t.file = cfg.file;
  t.line = cfg.line;
  t.key_where = cfg.where;
  t.config = display_config(v);
  t.config.erase("include");
  auto w = [&](const std::string& key) { return t.where(key); };

  if (!v.contains("task") || !v["task"].is_string())
    throw Error("a task needs a 'task: <name>' key", cfg.file + ":" + std::to_string(cfg.line));
  t.name = v["task"].get<std::string>();
  if (t.name.empty()) throw Error("task name is empty", w("task"));
  if (v.contains("class")) return class_task(cfg);

  for (auto& [key, val] : v.items()) {
    if (!known_task_keys().count(key)) {
      auto close = closest_matches(
          key, std::vector<std::string>(known_task_keys().begin(), known_task_keys().end()), 1);
      log::warn("{}: task '{}': unknown key '{}' is ignored{}", w(key), t.name, key,
                close.empty() ? "" : " (did you mean '" + close[0] + "'?)");
    }
    (void)val;
  }

  if (auto a = opt_string(cfg, "task_alias", t.name)) t.alias = *a;
  auto add_tags = [&](const std::string& key) {
    if (!v.contains(key) || v[key].is_null()) return;
    if (v[key].is_string()) {
      t.tags.push_back(v[key].get<std::string>());
    } else if (v[key].is_array()) {
      for (const auto& x : v[key]) {
        if (!x.is_string())
          throw Error("task '" + t.name + "': " + key + " entries must be names", w(key));
        t.tags.push_back(x.get<std::string>());
      }
    } else {
      throw Error("task '" + t.name + "': " + key + " must be a name or a list of names", w(key));
    }
  };
  add_tags("tag");
  add_tags("group");  // legacy: `group` inside a task config acts as a tag

  parse_dataset(cfg, t);
  parse_prompt_fields(cfg, t);
  parse_requests(cfg, t);
  parse_scoring(cfg, t);
  parse_fewshot_config(cfg, t);
  if (t.output_type == OutputType::kMultipleChoice && t.doc_to_choice.is_null())
    throw Error("task '" + t.name + "': multiple_choice needs doc_to_choice", w("output_type"));
  return t;
}

}  // namespace tasks_internal

TaskSpec load_task_file(const std::string& path) {
  return tasks_internal::task_from_config(load_yaml_config(path));
}

}  // namespace retort
