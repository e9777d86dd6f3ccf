#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "tasks/task_index.h"
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

// Names defined by a set of files, later files winning clashes.
struct NameIndex {
  std::map<std::string, IndexEntry> by_name;  // lower-case name -> entry
  // Files that did not parse, with their error; reported when asked for by path, and as a
  // warning when a lookup fails (the missing name may live in the broken file).
  std::map<std::string, Error> broken;

  void add(FileSummary&& s) {
    switch (s.kind) {
      case FileSummary::Kind::kNone:
        return;
      case FileSummary::Kind::kBroken:
        broken.insert_or_assign(s.file, Error(s.error_what, s.error_where, s.error_hint));
        return;
      case FileSummary::Kind::kGroup: {
        std::string key = to_lower(s.name);
        by_name[key] =
            IndexEntry{std::move(s.name), Kind::kGroup, std::move(s.file), std::move(s.names)};
        return;
      }
      case FileSummary::Kind::kTask:
        by_name[to_lower(s.name)] = IndexEntry{s.name, Kind::kTask, s.file, {}};
        for (const auto& tag : s.names) {  // `tag` and `group` keys of a task
          auto& te = by_name[to_lower(tag)];
          if (te.name.empty()) te = IndexEntry{tag, Kind::kTag, s.file, {}};
          if (te.kind != Kind::kTag) continue;  // a real task/group of that name wins
          if (std::find(te.members.begin(), te.members.end(), s.name) == te.members.end())
            te.members.push_back(s.name);
        }
        return;
    }
  }

  const IndexEntry* find(const std::string& name) const {
    auto it = by_name.find(to_lower(name));
    return it == by_name.end() ? nullptr : &it->second;
  }
};

}  // namespace

struct TaskRegistry::Impl {
  std::vector<std::string> dirs;  // as added; indexed on first need, in this order
  bool index_cache = false;
  // Built from dirs when a name is first looked up: naming only files needs no index.
  mutable std::optional<NameIndex> index;
  mutable Stats stats;

  std::vector<FileSummary> summaries(const std::string& dir) const {
    IndexStats st;
    auto out = index_directory(dir, index_cache ? default_index_file(dir) : "", &st);
    stats.yaml_files_indexed += st.files;
    stats.yaml_files_read += st.read;
    return out;
  }

  const NameIndex& names() const {
    if (!index) {
      NameIndex idx;
      for (const auto& d : dirs)
        for (auto& s : summaries(d)) idx.add(std::move(s));
      index = std::move(idx);
    }
    return *index;
  }

  // Reads one task file with its includes, counting what it read.
  YamlConfig load(const std::string& file) const {
    std::vector<std::string> read;
    YamlConfig cfg = load_yaml_config(file, &read);
    stats.yaml_files_read += read.size();
    return cfg;
  }

  YamlConfig resolve(YamlConfig cfg) const {
    std::vector<std::string> read;
    cfg = resolve_includes(std::move(cfg), 0, &read);
    stats.yaml_files_read += read.size();
    return cfg;
  }

  // --- selection ---

  struct Builder {
    const Impl& reg;
    // Directories named in --tasks: indexed for this selection, winning name clashes.
    NameIndex named_dirs;
    // Directories of group files, indexed only when a member is found nowhere else (a
    // group file named by path may list tasks defined beside it).
    NameIndex beside_groups;
    std::set<std::string> beside_indexed;
    Selection sel;
    std::map<std::string, size_t> task_index;  // lower-case name -> index
    std::vector<std::string> group_stack;

    // Looks name up in the named directories, then the registry's index, then (when
    // group_dir is given) the directory of the group file that names it.
    const IndexEntry* find(const std::string& name, const std::string& group_dir = "") {
      if (const IndexEntry* e = named_dirs.find(name)) return e;
      if (const IndexEntry* e = reg.names().find(name)) return e;
      if (group_dir.empty()) return nullptr;
      if (beside_indexed.insert(group_dir).second)
        for (auto& s : reg.summaries(group_dir)) beside_groups.add(std::move(s));
      return beside_groups.find(name);
    }

    [[noreturn]] void unknown(const std::string& name, const std::string& where) {
      if (const UnavailableTask* u = unavailable_task(name))
        throw Error("'" + name + "' is not a task: " + u->reason, where,
                    std::string("the closest real task is '") + u->suggestion + "'");
      if (auto target = task_alias(name))
        throw Error(
            "'" + name + "' means lm-eval's '" + *target + "', which has no task file here yet",
            where, "point --include_path at a directory holding its YAML file");
      std::set<std::string> all;
      std::map<std::string, const Error*> broken;
      for (const NameIndex* idx :
           std::initializer_list<const NameIndex*>{&named_dirs, &reg.names(), &beside_groups}) {
        for (const auto& [k, e] : idx->by_name) all.insert(e.name);
        for (const auto& [file, err] : idx->broken) broken.emplace(file, &err);
      }
      auto close = closest_matches(name, std::vector<std::string>(all.begin(), all.end()), 3);
      std::string hint;
      if (close.empty()) {
        hint =
            "run 'retort tasks list' to see the tasks; --include_path DIR adds your own task "
            "files";
      } else {
        std::vector<std::string> q;
        for (auto& c : close) q.push_back("'" + c + "'");
        hint = "did you mean " + join(q, ", ") + "? ('retort tasks list' shows all)";
      }
      for (const auto& [file, err] : broken)
        log::warn("task file {} was skipped: {}", file, err->message());
      throw Error("unknown task '" + name + "'", where, hint);
    }

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
      const std::string dir = fs::path(cfg.file).parent_path().string();
      for (const auto& child : g->task_list) {
        if (child.is_string()) {
          auto kids = by_name(child.get<std::string>(), where_task, dir);
          for (auto& k : kids) node.children.push_back(std::move(k));
        } else if (child.is_object()) {
          node.children.push_back(inline_child(child, cfg, where_task, dir));
        } else {
          throw Error("group '" + g->name + "': task entries must be names or mappings",
                      where_task);
        }
      }
      group_stack.pop_back();
      return node;
    }

    SelectionNode inline_child(const Json& child, const YamlConfig& parent,
                               const std::string& where, const std::string& group_dir) {
      YamlConfig cfg;
      cfg.file = parent.file;
      cfg.line = parent.line;
      cfg.value = child;
      for (auto& [k, x] : child.items()) {
        (void)x;
        cfg.where[k] = where;
      }
      // An entry with its own data source or include is a whole task written inline; only
      // an entry without one can be a reference to a task defined beside the group file.
      const std::string beside =
          child.contains("dataset_path") || child.contains("include") ? "" : group_dir;
      cfg = reg.resolve(std::move(cfg));
      if (cfg.value.contains("group") && cfg.value["group"].is_string() &&
          (!cfg.value.contains("task") || cfg.value["task"].is_array())) {
        if (!cfg.value.contains("task")) {
          const IndexEntry* e = find(cfg.value["group"].get<std::string>(), beside);
          if (e && e->kind == Kind::kGroup) return group_node(reg.load(e->file));
        }
        return group_node(cfg);
      }
      if (!cfg.value.contains("task") || !cfg.value["task"].is_string())
        throw Error("a task entry in a group needs 'task: <name>'", where);
      // A registered task named here is the base; the entry's keys override it.
      const IndexEntry* e = find(cfg.value["task"].get<std::string>(), beside);
      if (e && e->kind == Kind::kTask) {
        YamlConfig base = reg.load(e->file);
        for (auto& [k, x] : cfg.value.items()) {
          if (k == "task") continue;
          base.value[k] = x;
          base.where[k] = where;
        }
        return leaf(task_from_config(base));
      }
      return leaf(task_from_config(cfg));
    }

    std::vector<SelectionNode> by_name(const std::string& name, const std::string& where,
                                       const std::string& group_dir = "") {
      const IndexEntry* e = find(name, group_dir);
      if (!e) unknown(name, where);
      return by_entry(*e, where);
    }

    std::vector<SelectionNode> by_entry(const IndexEntry& e, const std::string& where) {
      switch (e.kind) {
        case Kind::kTask:
          return {leaf(task_from_config(reg.load(e.file)))};
        case Kind::kGroup:
          return {group_node(reg.load(e.file))};
        case Kind::kTag: {
          std::vector<SelectionNode> out;
          const IndexEntry tag = e;  // by_name may index more directories, moving entries
          for (const auto& m : tag.members) {
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
      YamlConfig cfg = reg.load(file);
      const Json& v = cfg.value;
      if (v.contains("group") && v["group"].is_string() &&
          (!v.contains("task") || v["task"].is_array()))
        return {group_node(cfg)};
      if (v.contains("task") && v["task"].is_string()) return {leaf(task_from_config(cfg))};
      throw Error("this file defines no task (no 'task: <name>' key) and no group", file);
    }

    // Every task and group in a directory named in --tasks that is not a member of
    // another group there.
    void select_dir(const std::vector<FileSummary>& files, const std::string& item) {
      std::set<std::string> children;
      for (const auto& f : files)
        if (f.kind == FileSummary::Kind::kGroup)
          for (const auto& m : f.names) children.insert(to_lower(m));
      bool any = false;
      for (const auto& f : files) {
        if (f.kind == FileSummary::Kind::kBroken)
          throw Error(f.error_what, f.error_where, f.error_hint);
        if (f.kind == FileSummary::Kind::kNone) continue;
        if (children.count(to_lower(f.name))) continue;
        for (auto& n : by_file(f.file)) sel.roots.push_back(std::move(n));
        any = true;
      }
      if (!any) throw Error("no task files (*.yaml with a 'task:' key) in this directory", item);
    }

    // Names matching a glob, the named directories winning clashes; tags are left out
    // (their tasks match on their own names).
    void select_glob(const std::string& item) {
      std::map<std::string, IndexEntry> all = reg.names().by_name;
      for (const auto& [k, e] : named_dirs.by_name) all[k] = e;
      std::string pat = to_lower(item);
      bool any = false;
      for (const auto& [k, e] : all) {
        if (fnmatch(pat.c_str(), k.c_str(), 0) != 0) continue;
        if (e.kind == Kind::kTag) continue;
        for (auto& n : by_entry(e, "--tasks")) sel.roots.push_back(std::move(n));
        any = true;
      }
      if (!any) throw Error("no task matches '" + item + "'", "--tasks", "run 'retort tasks list'");
    }
  };
};

TaskRegistry::TaskRegistry() : impl_(std::make_unique<Impl>()) {}
TaskRegistry::~TaskRegistry() = default;
TaskRegistry::TaskRegistry(TaskRegistry&&) noexcept = default;
TaskRegistry& TaskRegistry::operator=(TaskRegistry&&) noexcept = default;

void TaskRegistry::add_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  impl_->dirs.push_back(dir);
  impl_->index.reset();
}

void TaskRegistry::enable_index_cache() {
  impl_->index_cache = true;
}

TaskRegistry::Stats TaskRegistry::stats() const {
  return impl_->stats;
}

std::vector<TaskRegistry::Entry> TaskRegistry::entries() const {
  std::vector<Entry> out;
  for (const auto& [k, e] : impl_->names().by_name) {
    const char* kind = e.kind == Kind::kTask ? "task" : e.kind == Kind::kGroup ? "group" : "tag";
    out.push_back(Entry{e.name, kind, e.file, e.members});
  }
  return out;
}

Selection TaskRegistry::select(const std::vector<std::string>& items) const {
  Impl::Builder b{*impl_, {}, {}, {}, {}, {}, {}};
  // Directories named directly are indexed first, so that any item may use their names.
  std::map<std::string, std::vector<FileSummary>> dir_files;
  for (const auto& raw : items) {
    std::string item = trim(raw);
    std::error_code ec;
    if (item.empty() || !fs::is_directory(item, ec) || dir_files.count(item)) continue;
    auto files = impl_->summaries(item);
    for (auto f : files) b.named_dirs.add(std::move(f));
    dir_files.emplace(item, std::move(files));
  }
  for (const auto& raw : items) {
    std::string item = trim(raw);
    if (item.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(item, ec)) {
      b.select_dir(dir_files.at(item), item);
      continue;
    }
    if (fs::is_regular_file(item, ec) && is_yaml(item)) {
      for (auto& n : b.by_file(item)) b.sel.roots.push_back(std::move(n));
      continue;
    }
    if ((ends_with(item, ".yaml") || ends_with(item, ".yml")) && !fs::exists(item, ec))
      throw Error("task file '" + item + "' does not exist", "--tasks");
    if (b.find(item)) {
      for (auto& n : b.by_name(item, "--tasks")) b.sel.roots.push_back(std::move(n));
      continue;
    }
    if (auto target = task_alias(item); target && b.find(*target)) {
      for (auto& n : b.by_name(*target, "--tasks")) b.sel.roots.push_back(std::move(n));
      continue;
    }
    if (is_glob(item)) {
      b.select_glob(item);
      continue;
    }
    b.unknown(item, "--tasks");
  }
  if (b.sel.tasks.empty()) throw Error("no tasks selected", "--tasks", "name at least one task");
  return std::move(b.sel);
}

TaskSpec TaskRegistry::load_task(const std::string& name) const {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) return task_from_config(impl_->load(name));
  Impl::Builder b{*impl_, {}, {}, {}, {}, {}, {}};
  const IndexEntry* e = b.find(name);
  if (!e)
    if (auto target = task_alias(name)) e = b.find(*target);
  if (!e) b.unknown(name, "");
  if (e->kind != Kind::kTask)
    throw Error(
        "'" + name + "' is a " + (e->kind == Kind::kGroup ? "group" : "tag") + ", not a task",
        e->file);
  return task_from_config(impl_->load(e->file));
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
