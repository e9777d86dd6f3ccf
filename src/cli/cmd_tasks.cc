// `retort tasks [list|show NAME] [--include_path DIR]`: what tasks exist (kind, output type,
// formulations, metrics, groups, source), the names people type, and what one task resolves
// to (config after include, and the first doc's prompt in each formulation).
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "prompt/chat_template.h"
#include "prompt/prompt.h"
#include "scoring/scoring.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

const char* kUsage =
    "usage: retort tasks [list] [--include_path DIR]...\n"
    "       retort tasks show NAME|FILE.yaml [--include_path DIR] [--num_fewshot N]\n"
    "                         [--apply_chat_template] [--chat_template FILE]\n";

// A task class may add loglikelihood requests to its generations (squadv2's " unanswerable"):
// such a task needs both, and its output type says so.
std::string output_of(const TaskSpec& spec) {
  std::string out = output_type_name(spec.output_type);
  if (!spec.also_loglikelihood.empty()) out += "+loglikelihood";
  return out;
}

std::string formulations_of(const TaskSpec& spec) {
  if (!spec.also_loglikelihood.empty()) return "generative+loglikelihood";
  switch (spec.output_type) {
    case OutputType::kMultipleChoice:
      return "loglikelihood,generative";
    case OutputType::kGenerateUntil:
      return "generative";
    case OutputType::kLoglikelihood:
    case OutputType::kLoglikelihoodRolling:
      return "loglikelihood";
  }
  return "";
}

std::string metrics_of(const TaskSpec& spec) {
  std::vector<std::string> names;
  if (spec.metric_list.is_array()) {
    for (const auto& m : spec.metric_list)
      if (m.contains("metric") && m["metric"].is_string()) names.push_back(m["metric"]);
  } else {
    for (const auto& m : default_metrics(spec.output_type)) names.push_back(m.name);
  }
  return join(names, ",");
}

std::string source_of(const TaskSpec& spec) {
  std::string s = spec.dataset.path;
  if (!spec.dataset.name.empty()) s += ":" + spec.dataset.name;
  if (auto split = spec.eval_split()) s += " (" + *split + ")";
  return s;
}

void print_prompt(const TaskSpec& spec, const TaskDocs& docs, PromptOptions opts,
                  const char* formulation) {
  TaskPlan plan = plan_task(spec, docs, opts, 1);
  const auto& pd = plan.docs.at(0);
  std::printf("\n## %s prompt (arg_0 of request 0, %d-shot)\n%s\n", formulation, plan.num_fewshot,
              pd.sample.requests.at(0).arguments["arg_0"].get<std::string>().c_str());
  std::printf("\n## %s requests\n", formulation);
  for (const auto& sr : pd.sample.requests) {
    const Json args = sr.logged_arguments();
    if (args.contains("arg_1")) std::printf("  arg_1: %s\n", args["arg_1"].dump().c_str());
  }
  std::printf("  target: %s\n", pd.sample.target.dump().c_str());
}

void show(const TaskRegistry& reg, const std::string& name, std::optional<int> num_fewshot,
          bool chat, const std::shared_ptr<const ChatTemplate>& chat_template) {
  Selection sel = reg.select({name});
  for (const auto& spec : sel.tasks) {
    std::printf("# %s (%s)\n", spec.name.c_str(), spec.file.c_str());
    std::printf("output type: %s; formulations: %s; metrics: %s; source: %s\n",
                output_of(spec).c_str(), formulations_of(spec).c_str(), metrics_of(spec).c_str(),
                source_of(spec).c_str());
    std::printf("%s\n", spec.config.dump(2).c_str());
    PromptOptions opts;
    opts.num_fewshot = num_fewshot;
    opts.apply_chat_template = chat;
    opts.fewshot_as_multiturn = chat;
    opts.chat_template = chat_template;
    try {
      int shots = effective_num_fewshot(spec, num_fewshot);
      TaskDocs docs = load_task_docs(spec, shots);
      remember_doc_counts(doc_count_file(), {{doc_count_key(spec), docs.original_len}});
      std::printf("\n## doc 0 of %lld\n%s\n", static_cast<long long>(docs.original_len),
                  docs.eval.at(0).dump().c_str());
      if (spec.output_type == OutputType::kMultipleChoice) {
        print_prompt(spec, docs, opts, "loglikelihood");
        opts.mc_generative = true;
        print_prompt(spec, docs, opts, "generative");
      } else {
        print_prompt(spec, docs, opts, formulations_of(spec).c_str());
      }
    } catch (const Error& e) {
      std::printf("\n(no prompt shown: %s)\n", e.what_failed().c_str());
    }
    std::printf("\n");
  }
}

}  // namespace

int cmd_tasks(const Args& args) {
  std::string sub = "list";
  std::string name;
  std::vector<std::string> include;
  std::optional<int> num_fewshot;
  bool chat = false;
  std::string chat_template_file;  // rendered as for a completions endpoint
  for (size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i];
    for (size_t k = 2; k < a.size() && starts_with(a, "--"); ++k)
      if (a[k] == '-') a[k] = '_';
    auto value = [&](const std::string& flag) {
      auto eq = a.find('=');
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= args.size()) throw Error(flag + " needs a value", flag);
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (starts_with(a, "--include_path")) {
      for (auto& p : split(value("--include_path"), ',')) include.push_back(p);
    } else if (starts_with(a, "--num_fewshot")) {
      num_fewshot = std::stoi(value("--num_fewshot"));
    } else if (a == "--apply_chat_template") {
      chat = true;
    } else if (starts_with(a, "--chat_template")) {
      chat_template_file = value("--chat_template");
      chat = true;
    } else if (starts_with(a, "--")) {
      throw Error("unknown flag '" + args[i] + "'", "retort tasks", kUsage);
    } else if (a == "list" || a == "show") {
      sub = a;
    } else if (name.empty()) {
      name = a;
    } else {
      throw Error("unexpected argument '" + a + "'", "retort tasks", kUsage);
    }
  }
  TaskRegistry reg;
  reg.enable_index_cache();
  for (const auto& d : builtin_task_dirs()) reg.add_dir(d);
  for (const auto& d : include) {
    if (!std::filesystem::is_directory(d))
      throw Error("--include_path '" + d + "' is not a directory", "--include_path");
    reg.add_dir(d);
  }
  if (sub == "show") {
    if (name.empty()) throw Error("which task?", "retort tasks show", kUsage);
    std::shared_ptr<const ChatTemplate> tpl;
    if (!chat_template_file.empty())
      tpl = std::make_shared<const ChatTemplate>(load_chat_template_file(chat_template_file));
    show(reg, name, num_fewshot, chat, tpl);
    return 0;
  }
  auto entries = reg.entries();
  // Which groups and tags hold each task.
  std::map<std::string, std::vector<std::string>> holders;
  for (const auto& e : entries)
    if (e.kind != "task")
      for (const auto& m : e.members) holders[to_lower(m)].push_back(e.name);
  // Doc counts seen when a run (or `tasks show`) last loaded the task's data; "?" otherwise.
  const std::map<std::string, int64_t> counts = remembered_doc_counts(doc_count_file());
  size_t w = 4;
  for (const auto& e : entries) w = std::max(w, e.name.size());
  std::printf("%-*s  %-5s  %-6s  %-28s  %-24s  %-24s  %-16s  %s\n", static_cast<int>(w), "NAME",
              "KIND", "DOCS", "OUTPUT", "FORMULATIONS", "METRIC", "GROUP", "SOURCE / MEMBERS");
  for (const auto& e : entries) {
    std::string output = "-", forms = "-", metric = "-", docs = "-", detail;
    if (e.kind == "task") {
      try {
        TaskSpec spec = reg.load_task(e.name);
        auto n = counts.find(doc_count_key(spec));
        docs = n == counts.end() ? "?" : std::to_string(n->second);
        output = output_of(spec);
        forms = formulations_of(spec);
        metric = metrics_of(spec);
        detail = source_of(spec);
      } catch (const Error& err) {
        detail = "(broken: " + err.what_failed() + ")";
      }
    } else {
      detail = join(e.members, ", ");
    }
    std::string group =
        holders.count(to_lower(e.name)) ? join(holders[to_lower(e.name)], ",") : "-";
    std::printf("%-*s  %-5s  %-6s  %-28s  %-24s  %-24s  %-16s  %s\n", static_cast<int>(w),
                e.name.c_str(), e.kind.c_str(), docs.c_str(), output.c_str(), forms.c_str(),
                metric.c_str(), group.c_str(), detail.c_str());
  }
  std::printf("\nNames people type (case, '-', '_', '.' and spaces ignored):\n");
  for (const auto& a : task_aliases()) std::printf("  %-16s -> %s\n", a.spelling, a.target);
  if (entries.empty())
    std::printf("(no tasks found; built-in task directory: %s)\n",
                builtin_task_dirs().empty() ? "none" : builtin_task_dirs()[0].c_str());
  return 0;
}

}  // namespace retort::cli
