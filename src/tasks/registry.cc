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

using Kind = NameKind;
using IndexEntry = NameEntry;
using NameIndex = NameTable;

bool is_yaml(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

bool is_glob(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

// Thrown when a trusted index turned out stale (a used file changed, a name was found
// nowhere): the selection starts again with every file looked at.
struct StaleIndex {};

}  // namespace

struct TaskRegistry::Impl {
  std::vector<std::string> dirs;  // as added; indexed on first need, in this order
  bool index_cache = false;
  // Built from dirs when a name is first looked up: naming only files needs no index.
  mutable std::optional<NameIndex> index;
  mutable Stats stats;
  // Per directory, its on-disk index where no directory under it changed (see
  // task_index.h); empty until the first lookup, and again once one turned out stale.
  mutable std::vector<std::unique_ptr<TrustedIndex>> trusted;
  mutable bool trusted_opened = false;
  mutable bool validate = false;  // a trusted index was stale: look at every file
  mutable NameIndex looked_up;    // entries found through trusted indexes (stable addresses)

  bool using_trusted() const {
    for (const auto& t : trusted)
      if (t) return true;
    return false;
  }

  // Looks a name up in every directory (later ones winning, as in names()), reading the
  // trusted indexes where there are some and indexing the other directories in full.
  const IndexEntry* find_name(const std::string& name) const {
    if (!trusted_opened) {
      trusted_opened = true;
      trusted.clear();
      if (index_cache && !validate)
        for (const auto& d : dirs) trusted.push_back(TrustedIndex::open(d, default_index_file(d)));
    }
    if (!using_trusted()) return names().find(name);
    const std::string lower = to_lower(name);
    if (const IndexEntry* e = looked_up.find(lower)) return e;
    NameIndex one;
    for (size_t i = 0; i < dirs.size(); ++i) {
      std::optional<IndexEntry> e;
      if (trusted[i]) {
        e = trusted[i]->find(lower);
      } else {
        if (!untrusted_tables.count(i)) {
          NameIndex t;
          for (const auto& s : summaries(dirs[i])) t.add(s);
          untrusted_tables.emplace(i, std::move(t));
        }
        if (const IndexEntry* x = untrusted_tables.at(i).find(lower)) e = *x;
      }
      if (e) one.merge(lower, *e);
    }
    auto it = one.by_name.find(lower);
    if (it == one.by_name.end()) return nullptr;
    looked_up.by_name.insert_or_assign(lower, std::move(it->second));
    return looked_up.find(lower);
  }
  mutable std::map<size_t, NameIndex> untrusted_tables;

  // After a trusted index turned out stale: forget every answer it gave.
  void revalidate() const {
    validate = true;
    trusted.clear();
    trusted_opened = true;
    looked_up = NameIndex{};
    untrusted_tables.clear();
    index.reset();
  }

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
        for (const auto& s : summaries(d)) idx.add(s);
      index = std::move(idx);
    }
    return *index;
  }

  // Reads one task file with its includes, counting what it read.
  YamlConfig load(const std::string& file) const {
    for (const auto& t : trusted)
      if (t && !t->fresh(file)) throw StaleIndex{};
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
      if (const IndexEntry* e = reg.find_name(name)) return e;
      if (group_dir.empty()) return nullptr;
      if (beside_indexed.insert(group_dir).second)
        for (const auto& s : reg.summaries(group_dir)) beside_groups.add(s);
      return beside_groups.find(name);
    }

    [[noreturn]] void unknown(const std::string& name, const std::string& where) {
      // A name found nowhere may have been added by an edit the trusted index cannot see.
      if (reg.using_trusted()) throw StaleIndex{};
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
  impl_->trusted.clear();
  impl_->trusted_opened = false;
  impl_->looked_up = NameIndex{};
  impl_->untrusted_tables.clear();
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
  try {
    return select_once(items);
  } catch (const StaleIndex&) {
    log::debug("tasks: a task index was stale; looking at every task file");
    impl_->revalidate();
    return select_once(items);
  }
}

Selection TaskRegistry::select_once(const std::vector<std::string>& items) const {
  Impl::Builder b{*impl_, {}, {}, {}, {}, {}, {}};
  // Directories named directly are indexed first, so that any item may use their names.
  std::map<std::string, std::vector<FileSummary>> dir_files;
  for (const auto& raw : items) {
    std::string item = trim(raw);
    std::error_code ec;
    if (item.empty() || !fs::is_directory(item, ec) || dir_files.count(item)) continue;
    auto files = impl_->summaries(item);
    for (const auto& f : files) b.named_dirs.add(f);
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
  try {
    return load_task_once(name);
  } catch (const StaleIndex&) {
    impl_->revalidate();
    return load_task_once(name);
  }
}

TaskSpec TaskRegistry::load_task_once(const std::string& name) const {
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
