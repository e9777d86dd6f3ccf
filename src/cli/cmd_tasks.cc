// `retort tasks [list|show NAME] [--include_path DIR]`: what tasks exist, and what one
// task resolves to (config after include, and the first doc's prompt when its data is at
// hand).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "prompt/prompt.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

const char* kUsage =
    "usage: retort tasks [list] [--include_path DIR]...\n"
    "       retort tasks show NAME|FILE.yaml [--include_path DIR] [--num_fewshot N]\n"
    "                         [--apply_chat_template]\n";

void show(const TaskRegistry& reg, const std::string& name, std::optional<int> num_fewshot,
          bool chat) {
  Selection sel = reg.select({name});
  for (const auto& spec : sel.tasks) {
    std::printf("# %s (%s)\n", spec.name.c_str(), spec.file.c_str());
    std::printf("%s\n", spec.config.dump(2).c_str());
    PromptOptions opts;
    opts.num_fewshot = num_fewshot;
    opts.apply_chat_template = chat;
    opts.fewshot_as_multiturn = chat;
    std::error_code ec;
    const bool local =
        !spec.dataset.data_files.empty() ||
        (!spec.dataset.path.empty() && std::filesystem::exists(spec.dataset.path, ec)) ||
        (!spec.dataset.path.empty() &&
         std::filesystem::exists(std::filesystem::path(spec.dataset.base_dir) / spec.dataset.path,
                                 ec));
    if (!local) {
      std::printf("\n(prompt not shown: the data is on the Hub (%s); `retort run` fetches it)\n\n",
                  spec.dataset.path.c_str());
      continue;
    }
    try {
      int shots = effective_num_fewshot(spec, num_fewshot);
      TaskDocs docs = load_task_docs(spec, shots);
      TaskPlan plan = plan_task(spec, docs, opts, 1);
      const auto& pd = plan.docs.at(0);
      std::printf("\n## doc 0 of %lld (%d-shot)\n%s\n", static_cast<long long>(docs.original_len),
                  plan.num_fewshot, pd.sample.doc.dump().c_str());
      std::printf("\n## prompt (arg_0 of request 0)\n%s\n",
                  pd.sample.requests.at(0).arguments["arg_0"].get<std::string>().c_str());
      std::printf("\n## requests\n");
      for (const auto& sr : pd.sample.requests)
        if (sr.arguments.contains("arg_1"))
          std::printf("  arg_1: %s\n", sr.arguments["arg_1"].dump().c_str());
      std::printf("  target: %s\n", pd.sample.target.dump().c_str());
    } catch (const Error& e) {
      std::printf("\n(no prompt shown: %s)\n", e.message().c_str());
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
    show(reg, name, num_fewshot, chat);
    return 0;
  }
  auto entries = reg.entries();
  size_t w = 4;
  for (const auto& e : entries) w = std::max(w, e.name.size());
  std::printf("%-*s  %-5s  %s\n", static_cast<int>(w), "NAME", "KIND", "FILE / MEMBERS");
  for (const auto& e : entries) {
    std::string detail = e.kind == "tag" ? join(e.members, ", ") : e.file;
    std::printf("%-*s  %-5s  %s\n", static_cast<int>(w), e.name.c_str(), e.kind.c_str(),
                detail.c_str());
  }
  if (entries.empty())
    std::printf("(no tasks found; built-in task directory: %s)\n",
                builtin_task_dirs().empty() ? "none" : builtin_task_dirs()[0].c_str());
  return 0;
}

}  // namespace retort::cli
