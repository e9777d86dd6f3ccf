#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
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

namespace {

enum class Kind { kTask, kGroup, kTag };

struct IndexEntry {
  std::string name;  // as written
  Kind kind = Kind::kTask;
  std::string file;
  std::vector<std::string> members;  // tag: task names; group: children names
};

bool is_yaml(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

bool is_glob(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

std::string child_name(const Json& c) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_object()) {
    if (c.contains("group") && c["group"].is_string()) return c["group"].get<std::string>();
    if (c.contains("task") && c["task"].is_string()) return c["task"].get<std::string>();
  }
  return c.dump();
}

}  // namespace

struct TaskRegistry::Impl {
  std::map<std::string, IndexEntry> by_name;  // lower-case name -> entry
  // Files that did not parse, with their error; reported when asked for by path, and as a
  // warning when a lookup fails (the missing name may live in the broken file).
  std::map<std::string, std::string> broken;

  void index_file(const fs::path& path) {
    YamlConfig cfg;
    std::string file = fs::absolute(path).lexically_normal().string();
    try {
      cfg = load_yaml_config(file);
    } catch (const Error& e) {
      broken[file] = e.message();
      return;
    }
    index_config(cfg, file);
  }

  void index_config(const YamlConfig& cfg, const std::string& file) {
    const Json& v = cfg.value;
    const bool task_is_list = v.contains("task") && v["task"].is_array();
    if (v.contains("group") && v["group"].is_string() && (task_is_list || !v.contains("task"))) {
      IndexEntry e{v["group"].get<std::string>(), Kind::kGroup, file, {}};
      if (task_is_list)
        for (const auto& c : v["task"]) e.members.push_back(child_name(c));
      by_name[to_lower(e.name)] = e;
      return;
    }
    if (v.contains("task") && v["task"].is_string()) {
      std::string name = v["task"].get<std::string>();
      by_name[to_lower(name)] = IndexEntry{name, Kind::kTask, file, {}};
      for (const char* key : {"tag", "group"}) {
        if (!v.contains(key)) continue;
        std::vector<std::string> tags;
        if (v[key].is_string()) tags.push_back(v[key].get<std::string>());
        if (v[key].is_array())
          for (const auto& x : v[key])
            if (x.is_string()) tags.push_back(x.get<std::string>());
        for (const auto& tag : tags) {
          auto& te = by_name[to_lower(tag)];
          if (te.name.empty()) te = IndexEntry{tag, Kind::kTag, file, {}};
          if (te.kind != Kind::kTag) continue;  // a real task/group of that name wins
          if (std::find(te.members.begin(), te.members.end(), name) == te.members.end())
            te.members.push_back(name);
        }
      }
    }
  }

  void add_dir(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::follow_directory_symlink, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file() && is_yaml(it->path())) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) index_file(f);
  }

  const IndexEntry* find(const std::string& name) const {
    auto it = by_name.find(to_lower(name));
    return it == by_name.end() ? nullptr : &it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, e] : by_name) out.push_back(e.name);
    return out;
  }

  [[noreturn]] void unknown(const std::string& name, const std::string& where) const {
    auto close = closest_matches(name, names(), 3);
    std::string hint = close.empty()
                           ? "run 'retort tasks list' to see the tasks; --include_path DIR adds "
                             "your own task files"
                           : "did you mean " +
                                 join(
                                     [&] {
                                       std::vector<std::string> q;
                                       for (auto& c : close) q.push_back("'" + c + "'");
                                       return q;
                                     }(),
                                     ", ") +
                                 "? ('retort tasks list' shows all)";
    for (const auto& [file, err] : broken) log::warn("task file {} was skipped: {}", file, err);
    throw Error("unknown task '" + name + "'", where, hint);
  }

  // --- selection ---

  struct Builder {
    const Impl& reg;
    Selection sel;
    std::map<std::string, size_t> task_index;  // lower-case name -> index
    std::vector<std::string> group_stack;

    size_t add_task(TaskSpec spec) {
      auto key = to_lower(spec.name);
      auto it = task_index.find(key);
      if (it != task_index.end()) return it->second;
      sel.tasks.push_back(std::move(spec));
      task_index[key] = sel.tasks.size() - 1;
      return sel.tasks.size() - 1;
    }

    SelectionNode leaf(TaskSpec spec) {
      SelectionNode n;
      n.name = spec.name;
      n.task_index = add_task(std::move(spec));
      return n;
    }

    SelectionNode group_node(const YamlConfig& cfg) {
      const Json& v = cfg.value;
      auto g = std::make_shared<GroupSpec>();
      g->name = v["group"].get<std::string>();
      g->file = cfg.file;
      g->line = cfg.line;
      g->config = display_config(v);
      if (v.contains("group_alias") && v["group_alias"].is_string())
        g->alias = v["group_alias"].get<std::string>();
      if (v.contains("task") && v["task"].is_array())
        g->task_list = v["task"];
      else if (v.contains("task"))
        throw Error("group '" + g->name + "': task must be a list", cfg.where.at("task"));
      if (v.contains("aggregate_metric_list") && !v["aggregate_metric_list"].is_null()) {
        Json aml = v["aggregate_metric_list"];
        if (aml.is_object()) aml = Json::array({aml});
        if (!aml.is_array())
          throw Error("group '" + g->name + "': aggregate_metric_list must be a list",
                      cfg.where.at("aggregate_metric_list"));
        for (const auto& m : aml)
          if (!m.is_object() || !m.contains("metric"))
            throw Error("group '" + g->name + "': each aggregate_metric_list entry needs 'metric'",
                        cfg.where.at("aggregate_metric_list"));
        g->aggregate_metric_list = aml;
      }
      if (v.contains("metadata") && v["metadata"].is_object()) {
        g->metadata = v["metadata"];
        if (g->metadata.contains("version")) g->version = g->metadata["version"];
      }
      for (auto& [k, x] : v.items()) {
        (void)x;
        static const std::set<std::string> known = {
            "group", "group_alias", "task", "aggregate_metric_list", "metadata", "include"};
        if (!known.count(k))
          log::warn("{}: group '{}': unknown key '{}' is ignored", cfg.where.at(k), g->name, k);
      }
      if (std::find(group_stack.begin(), group_stack.end(), to_lower(g->name)) != group_stack.end())
        throw Error("group '" + g->name + "' contains itself", cfg.file);
      group_stack.push_back(to_lower(g->name));
      SelectionNode node;
      node.name = g->name;
      node.is_group = true;
      node.group = g;
      const std::string where_task = cfg.where.count("task") ? cfg.where.at("task") : cfg.file;
      for (const auto& child : g->task_list) {
        if (child.is_string()) {
          auto kids = by_name(child.get<std::string>(), where_task);
          for (auto& k : kids) node.children.push_back(std::move(k));
        } else if (child.is_object()) {
          node.children.push_back(inline_child(child, cfg, where_task));
        } else {
          throw Error("group '" + g->name + "': task entries must be names or mappings",
                      where_task);
        }
      }
      group_stack.pop_back();
      return node;
    }

    SelectionNode inline_child(const Json& child, const YamlConfig& parent,
                               const std::string& where) {
      YamlConfig cfg;
      cfg.file = parent.file;
      cfg.line = parent.line;
      cfg.value = child;
      for (auto& [k, x] : child.items()) {
        (void)x;
        cfg.where[k] = where;
      }
      cfg = resolve_includes(std::move(cfg));
      if (cfg.value.contains("group") && cfg.value["group"].is_string() &&
          (!cfg.value.contains("task") || cfg.value["task"].is_array())) {
        const IndexEntry* e = reg.find(cfg.value["group"].get<std::string>());
        if (!cfg.value.contains("task") && e && e->kind == Kind::kGroup) {
          return group_node(load_yaml_config(e->file));
        }
        return group_node(cfg);
      }
      if (!cfg.value.contains("task") || !cfg.value["task"].is_string())
        throw Error("a task entry in a group needs 'task: <name>'", where);
      // A registered task named here is the base; the entry's keys override it.
      const IndexEntry* e = reg.find(cfg.value["task"].get<std::string>());
      if (e && e->kind == Kind::kTask) {
        YamlConfig base = load_yaml_config(e->file);
        for (auto& [k, x] : cfg.value.items()) {
          if (k == "task") continue;
          base.value[k] = x;
          base.where[k] = where;
        }
        return leaf(task_from_config(base));
      }
      return leaf(task_from_config(cfg));
    }

    std::vector<SelectionNode> by_name(const std::string& name, const std::string& where) {
      const IndexEntry* e = reg.find(name);
      if (!e) reg.unknown(name, where);
      return by_entry(*e, where);
    }

    std::vector<SelectionNode> by_entry(const IndexEntry& e, const std::string& where) {
      switch (e.kind) {
        case Kind::kTask:
          return {leaf(task_from_config(load_yaml_config(e.file)))};
        case Kind::kGroup:
          return {group_node(load_yaml_config(e.file))};
        case Kind::kTag: {
          std::vector<SelectionNode> out;
          for (const auto& m : e.members) {
            auto kids = by_name(m, where);
            for (auto& k : kids) out.push_back(std::move(k));
          }
          return out;
        }
      }
      return {};
    }

    // Everything a file defines: its group or its task.
    std::vector<SelectionNode> by_file(const std::string& file) {
      YamlConfig cfg = load_yaml_config(file);
      const Json& v = cfg.value;
      if (v.contains("group") && v["group"].is_string() &&
          (!v.contains("task") || v["task"].is_array()))
        return {group_node(cfg)};
      if (v.contains("task") && v["task"].is_string()) return {leaf(task_from_config(cfg))};
      throw Error("this file defines no task (no 'task: <name>' key) and no group", file);
    }
  };
};

TaskRegistry::TaskRegistry() : impl_(std::make_unique<Impl>()) {}
TaskRegistry::~TaskRegistry() = default;
TaskRegistry::TaskRegistry(TaskRegistry&&) noexcept = default;
TaskRegistry& TaskRegistry::operator=(TaskRegistry&&) noexcept = default;

void TaskRegistry::add_dir(const std::string& dir) {
  impl_->add_dir(dir);
}

std::vector<TaskRegistry::Entry> TaskRegistry::entries() const {
  std::vector<Entry> out;
  for (const auto& [k, e] : impl_->by_name) {
    const char* kind = e.kind == Kind::kTask ? "task" : e.kind == Kind::kGroup ? "group" : "tag";
    out.push_back(Entry{e.name, kind, e.file, e.members});
  }
  return out;
}

Selection TaskRegistry::select(const std::vector<std::string>& items) const {
  // Paths named directly are indexed into a private copy, so that a group file's children
  // next to it resolve.
  Impl local = *impl_;
  for (const auto& item : items) {
    std::error_code ec;
    if (fs::is_directory(item, ec)) {
      local.add_dir(item);
    } else if (fs::is_regular_file(item, ec) && is_yaml(item)) {
      local.add_dir(fs::absolute(item).parent_path().string());
    }
  }
  Impl::Builder b{local, {}, {}, {}};
  for (const auto& raw : items) {
    std::string item = trim(raw);
    if (item.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(item, ec)) {
      // Every task and group in the directory that is not a child of another group there.
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(item, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file() && is_yaml(it->path()))
          files.push_back(fs::absolute(it->path()).lexically_normal().string());
      }
      std::sort(files.begin(), files.end());
      std::set<std::string> children;
      for (const auto& [k, e] : local.by_name)
        if (e.kind == Kind::kGroup)
          for (const auto& m : e.members) children.insert(to_lower(m));
      bool any = false;
      for (const auto& f : files) {
        auto bad = local.broken.find(f);
        if (bad != local.broken.end()) throw Error(bad->second.substr(bad->second.find(": ") + 2));
        YamlConfig cfg = load_yaml_config(f);
        const Json& v = cfg.value;
        std::string name;
        if (v.contains("group") && v["group"].is_string() &&
            (!v.contains("task") || v["task"].is_array()))
          name = v["group"].get<std::string>();
        else if (v.contains("task") && v["task"].is_string())
          name = v["task"].get<std::string>();
        else
          continue;
        if (children.count(to_lower(name))) continue;
        for (auto& n : b.by_file(f)) b.sel.roots.push_back(std::move(n));
        any = true;
      }
      if (!any) throw Error("no task files (*.yaml with a 'task:' key) in this directory", item);
      continue;
    }
    if (fs::is_regular_file(item, ec) && is_yaml(item)) {
      for (auto& n : b.by_file(item)) b.sel.roots.push_back(std::move(n));
      continue;
    }
    if ((ends_with(item, ".yaml") || ends_with(item, ".yml")) && !fs::exists(item, ec))
      throw Error("task file '" + item + "' does not exist", "--tasks");
    if (local.find(item)) {
      for (auto& n : b.by_name(item, "--tasks")) b.sel.roots.push_back(std::move(n));
      continue;
    }
    if (is_glob(item)) {
      std::string pat = to_lower(item);
      bool any = false;
      for (const auto& [k, e] : local.by_name) {
        if (fnmatch(pat.c_str(), k.c_str(), 0) != 0) continue;
        if (e.kind == Kind::kTag) continue;  // its tasks match on their own names
        for (auto& n : b.by_entry(e, "--tasks")) b.sel.roots.push_back(std::move(n));
        any = true;
      }
      if (!any) throw Error("no task matches '" + item + "'", "--tasks", "run 'retort tasks list'");
      continue;
    }
    local.unknown(item, "--tasks");
  }
  if (b.sel.tasks.empty()) throw Error("no tasks selected", "--tasks", "name at least one task");
  return std::move(b.sel);
}

TaskSpec TaskRegistry::load_task(const std::string& name) const {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) return load_task_file(name);
  const IndexEntry* e = impl_->find(name);
  if (!e) impl_->unknown(name, "");
  if (e->kind != Kind::kTask)
    throw Error(
        "'" + name + "' is a " + (e->kind == Kind::kGroup ? "group" : "tag") + ", not a task",
        e->file);
  return task_from_config(load_yaml_config(e->file));
}

std::vector<std::string> builtin_task_dirs() {
  if (const char* env = std::getenv("RETORT_TASKS_DIR"); env && *env) return {env};
  std::vector<fs::path> candidates;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    candidates.push_back(dir / ".." / "share" / "retort" / "tasks");
    candidates.push_back(dir / ".." / "tasks");
    candidates.push_back(dir / "tasks");
  }
#ifdef RETORT_SOURCE_TASKS_DIR
  candidates.push_back(RETORT_SOURCE_TASKS_DIR);
#endif
  for (const auto& c : candidates)
    if (fs::is_directory(c, ec)) return {fs::weakly_canonical(c, ec).string()};
  return {};
}

}  // namespace retort
