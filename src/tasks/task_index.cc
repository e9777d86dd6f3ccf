#include "tasks/task_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "tasks/yaml_config.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/user_folders.h"

namespace retort::tasks_internal {

namespace fs = std::filesystem;

namespace {

// Bumped whenever the line format or what a summary holds changes.
constexpr std::string_view kIndexHeader = "retort-task-index 3";

struct FileStamp {
  int64_t size = -1;  // -1: the file does not exist
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const struct stat& st) {
  return FileStamp{static_cast<int64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

FileStamp stamp_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return FileStamp{};
  return stamp_of(st);
}

bool is_yaml_name(std::string_view name) {
  return ends_with(name, ".yaml") || ends_with(name, ".yml");
}

struct Found {
  std::string path;
  FileStamp stamp;
  bool dir = false;  // a directory walked (its mtime tells whether entries came or went)
};

// Directories already walked (by device and inode), shared by the walking threads, so that
// a symlink back up the tree is followed once, not forever.
class Seen {
 public:
  bool first_visit(dev_t dev, ino_t ino) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.insert({dev, ino}).second;
  }

 private:
  std::mutex mu_;
  std::set<std::pair<dev_t, ino_t>> seen_;
};

// Lists one directory: its YAML files into out, its subdirectories into subdirs.
// readdir + fstatat rather than std::filesystem's iterator: one stat per YAML file and none
// for anything else, which is what makes a warm look over ~14,000 files cheap.
void list_dir(const std::string& dir, std::vector<Found>& out, std::vector<std::string>& subdirs,
              Seen& seen) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const int fd = ::dirfd(d);
  struct stat self;
  if (::fstat(fd, &self) != 0 || !seen.first_visit(self.st_dev, self.st_ino)) {
    ::closedir(d);  // a symlink back into a directory already walked
    return;
  }
  out.push_back(Found{dir, stamp_of(self), true});
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    const bool yaml = is_yaml_name(name);
    unsigned char type = e->d_type;
    if (type == DT_DIR) {
      subdirs.push_back(dir + "/" + std::string(name));
      continue;
    }
    if (type == DT_REG && !yaml) continue;
    if (type != DT_REG && type != DT_LNK && type != DT_UNKNOWN) continue;
    struct stat st;
    if (::fstatat(fd, e->d_name, &st, 0) != 0) continue;  // a dangling link
    if (S_ISDIR(st.st_mode))
      subdirs.push_back(dir + "/" + std::string(name));
    else if (S_ISREG(st.st_mode) && yaml)
      out.push_back(Found{dir + "/" + std::string(name), stamp_of(st)});
  }
  ::closedir(d);
}

void walk(const std::string& dir, std::vector<Found>& out, Seen& seen) {
  std::vector<std::string> subdirs;
  list_dir(dir, out, subdirs, seen);
  for (const auto& s : subdirs) walk(s, out, seen);
}

// Every YAML file under root, in no particular order. The first levels are listed
// breadth-first; once there are enough directories to share out (a tree like lm-eval's
// tasks/), their subtrees are walked by a few threads, since the cost is one stat per file.
std::vector<Found> walk_tree(const std::string& root) {
  std::vector<Found> out;
  Seen seen;
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::string> frontier{root};
  while (!frontier.empty() && (threads == 1 || frontier.size() < 4 * threads)) {
    std::vector<std::string> next;
    for (const auto& d : frontier) list_dir(d, out, next, seen);
    frontier = std::move(next);
  }
  if (frontier.empty()) return out;
  std::atomic<size_t> next{0};
  std::vector<std::vector<Found>> parts(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i; (i = next.fetch_add(1)) < frontier.size();) walk(frontier[i], parts[t], seen);
    });
  for (auto& th : pool) th.join();
  for (auto& p : parts)
    out.insert(out.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
  return out;
}

// std::filesystem::path's order (component by component) on plain strings: '/' sorts
// before every other byte. The registry lets later files win name clashes, so the order
// must not change with the implementation.
bool path_less(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  // Paths in one tree share long prefixes: skip them a word at a time.
  while (i + 8 <= n && std::memcmp(a.data() + i, b.data() + i, 8) == 0) i += 8;
  for (; i < n; ++i) {
    if (a[i] == b[i]) continue;
    const unsigned char x = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
    const unsigned char y = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
    return x < y;
  }
  return a.size() < b.size();
}

void tags_of(const Json& v, const char* key, std::vector<std::string>& out) {
  if (!v.contains(key)) return;
  if (v[key].is_string()) out.push_back(v[key].get<std::string>());
  if (v[key].is_array())
    for (const auto& x : v[key])
      if (x.is_string()) out.push_back(x.get<std::string>());
}

std::string child_name(const Json& c) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_object()) {
    if (c.contains("group") && c["group"].is_string()) return c["group"].get<std::string>();
    if (c.contains("task") && c["task"].is_string()) return c["task"].get<std::string>();
  }
  return c.dump();
}

// --- the index file: one line per YAML file, tab-separated, with \\ \t \n \r escaped ---

void put(std::string& out, std::string_view s) {
  append_tsv_escaped(out, s);
  out += '\t';
}

void put(std::string& out, int64_t n) {
  out += std::to_string(n);
  out += '\t';
}

// Reads the fields of one line in order; any malformed field makes ok() false.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : rest_(line) {}
  bool ok() const { return ok_; }

  std::string str() {
    std::string_view f = field();
    std::string s;
    s.reserve(f.size());
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '\\') {
        s += f[i];
        continue;
      }
      if (++i == f.size()) return fail();
      switch (f[i]) {
        case '\\':
          s += '\\';
          break;
        case 't':
          s += '\t';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        default:
          return fail();
      }
    }
    return s;
  }

  int64_t num() {
    std::string_view f = field();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (f.empty() || ec != std::errc() || end != f.data() + f.size()) fail();
    return v;
  }

  // What is left of the line, unread.
  std::string_view rest() const { return rest_; }

  std::string fail() {
    ok_ = false;
    return {};
  }

 private:
  std::string_view field() {
    if (!ok_) return {};
    size_t tab = rest_.find('\t');
    if (tab == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string_view f = rest_.substr(0, tab);
    rest_.remove_prefix(tab + 1);
    return f;
  }
  std::string_view rest_;
  bool ok_ = true;
};

char kind_char(FileSummary::Kind k) {
  switch (k) {
    case FileSummary::Kind::kNone:
      return 'N';
    case FileSummary::Kind::kTask:
      return 'T';
    case FileSummary::Kind::kGroup:
      return 'G';
    case FileSummary::Kind::kBroken:
      return 'B';
  }
  return 'N';
}

bool kind_of(const std::string& s, FileSummary::Kind& k) {
  if (s == "N")
    k = FileSummary::Kind::kNone;
  else if (s == "T")
    k = FileSummary::Kind::kTask;
  else if (s == "G")
    k = FileSummary::Kind::kGroup;
  else if (s == "B")
    k = FileSummary::Kind::kBroken;
  else
    return false;
  return true;
}

// A file that some task file's `include:` reached (or looked for), with its stamp then.
struct Dep {
  std::string path;
  FileStamp stamp;
};

// The index file as read. Layout (every field ends with a tab):
//   retort-task-index 3 <root>
//   R <dir under root> <mtime>                    -- every directory walked, path order
//   D <path> <size> <mtime>                                  -- included files, id = order
//   F <path under root> <size> <mtime> <kind> <name> <error what> <error where> <error hint>
//     <n> <n names> <m> <m ids of D lines>                   -- one per YAML file, path order
//   N <lower-case name> <name> <kind T|G|A> <file under root> <n> <n members>
//                                           -- the NameTable of all files, by lower name
// Only the path and stamp of an F line are parsed up front; the rest when it is reused.
struct OldIndex {
  std::string text;                                   // the lines point into it
  std::vector<std::pair<std::string, int64_t>> dirs;  // path under root, mtime (-1: too new)
  std::vector<Dep> deps;
  struct Line {
    std::string rel;
    FileStamp stamp;
    std::string_view rest;
  };
  std::vector<Line> lines;
};

std::string header_of(const std::string& root) {
  std::string h = std::string(kIndexHeader) + "\t";
  put(h, root);
  return h;
}

// False (and out empty) when the index is missing, foreign or damaged.
bool read_index(const std::string& index_file, const std::string& root, OldIndex& out) {
  try {
    out.text = read_file(index_file);
  } catch (const Error&) {
    return false;
  }
  std::string_view rest = out.text;
  auto next_line = [&rest](std::string_view& line) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;  // a torn last line: not ours
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != header_of(root)) {
    out = OldIndex{};
    return false;
  }
  while (next_line(line)) {
    LineReader in(line);
    const std::string tag = in.str();
    if (tag == "N") break;  // the name table: only TrustedIndex reads it
    if (tag == "R") {
      std::string rel = in.str();
      const int64_t mtime = in.num();
      out.dirs.emplace_back(std::move(rel), mtime);
    } else if (tag == "D") {
      Dep d;
      d.path = in.str();
      d.stamp.size = in.num();
      d.stamp.mtime_ns = in.num();
      out.deps.push_back(std::move(d));
    } else if (tag == "F") {
      OldIndex::Line l;
      l.rel = in.str();
      l.stamp.size = in.num();
      l.stamp.mtime_ns = in.num();
      l.rest = in.rest();
      out.lines.push_back(std::move(l));
    } else {
      in.fail();
    }
    if (!in.ok()) {
      log::debug("tasks: the task index {} is damaged; rebuilding it", index_file);
      out = OldIndex{};
      return false;
    }
  }
  return true;
}

// The part of an F line after the stamp. False if damaged.
bool read_summary(std::string_view rest, size_t n_deps, FileSummary& s,
                  std::vector<size_t>& dep_ids) {
  LineReader in(rest);
  if (!kind_of(in.str(), s.kind)) return false;
  s.name = in.str();
  s.error_what = in.str();
  s.error_where = in.str();
  s.error_hint = in.str();
  const int64_t n = in.num();
  for (int64_t i = 0; in.ok() && i < n; ++i) s.names.push_back(in.str());
  const int64_t m = in.num();
  for (int64_t i = 0; in.ok() && i < m; ++i) {
    const int64_t id = in.num();
    if (id < 0 || static_cast<size_t>(id) >= n_deps) return false;
    dep_ids.push_back(static_cast<size_t>(id));
  }
  return in.ok();
}

struct Record {
  FileStamp stamp;
  FileSummary summary;
  std::vector<const Dep*> deps;
};

char name_kind_char(NameKind k) {
  return k == NameKind::kTask ? 'T' : k == NameKind::kGroup ? 'G' : 'A';
}

// A directory whose mtime is this close to now may change again within the same tick of a
// coarse clock without its mtime moving: it is written as -1, never trusted.
constexpr int64_t kRacyNs = 2'000'000'000;

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t dir_mtime_to_write(int64_t mtime, int64_t now) {
  return mtime > now - kRacyNs ? -1 : mtime;
}

void write_index(const std::string& index_file, const std::string& root, size_t root_len,
                 const std::vector<Found>& dirs, const std::vector<Record>& records) {
  std::string head, deps, files, names;
  const int64_t now = now_ns();
  for (const auto& d : dirs) {
    head += "R\t";
    put(head, std::string_view(d.path).substr(std::min(root_len, d.path.size())));
    put(head, dir_mtime_to_write(d.stamp.mtime_ns, now));
    head += '\n';
  }
  std::unordered_map<const Dep*, int64_t> ids;
  for (const auto& r : records) {
    const FileSummary& s = r.summary;
    files += "F\t";
    put(files, std::string_view(s.file).substr(root_len));
    put(files, r.stamp.size);
    put(files, r.stamp.mtime_ns);
    put(files, std::string(1, kind_char(s.kind)));
    put(files, s.name);
    put(files, s.error_what);
    put(files, s.error_where);
    put(files, s.error_hint);
    put(files, static_cast<int64_t>(s.names.size()));
    for (const auto& n : s.names) put(files, n);
    put(files, static_cast<int64_t>(r.deps.size()));
    for (const Dep* d : r.deps) {
      auto [it, added] = ids.emplace(d, static_cast<int64_t>(ids.size()));
      if (added) {
        deps += "D\t";
        put(deps, d->path);
        put(deps, d->stamp.size);
        put(deps, d->stamp.mtime_ns);
        deps += '\n';
      }
      put(files, it->second);
    }
    files += '\n';
  }
  NameTable table;
  for (const auto& r : records) table.add(r.summary);
  for (const auto& [lower, e] : table.by_name) {
    names += "N\t";
    put(names, lower);
    put(names, e.name);
    put(names, std::string(1, name_kind_char(e.kind)));
    put(names, std::string_view(e.file).substr(std::min(root_len, e.file.size())));
    put(names, static_cast<int64_t>(e.members.size()));
    for (const auto& m : e.members) put(names, m);
    names += '\n';
  }
  try {
    write_file_atomic(index_file, header_of(root) + "\n" + head + deps + files + names);
  } catch (const std::exception& e) {
    // Only speed depends on the index; a read-only cache directory is not the user's problem.
    log::debug("tasks: cannot write the task index {}: {}", index_file, e.what());
  }
}

// Removes the index files of directories that no longer exist (scratch directories, old
// checkouts), so the cache does not grow without bound. Run when a new index file is made.
void prune_stale(const std::string& index_dir, const std::string& keep) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(index_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string path = it->path().string();
    if (path == keep || !ends_with(path, ".tsv")) continue;
    std::ifstream in(path);
    std::string header;
    if (!std::getline(in, header)) continue;
    const std::string prefix = std::string(kIndexHeader) + "\t";
    if (!starts_with(header, prefix)) continue;  // another version's: leave it be
    LineReader r(std::string_view(header).substr(prefix.size()));
    std::string dir = r.str();
    std::error_code ec2;
    if (r.ok() && !dir.empty() && !fs::exists(dir, ec2) && !ec2) fs::remove(path, ec2);
  }
}

}  // namespace

FileSummary summarize_file(const std::string& file, std::vector<std::string>* files_read) {
  FileSummary s;
  s.file = file;
  YamlConfig cfg;
  try {
    cfg = load_yaml_config(file, files_read);
  } catch (const Error& e) {
    s.kind = FileSummary::Kind::kBroken;
    s.error_what = e.what_failed();
    s.error_where = e.where();
    s.error_hint = e.hint();
    return s;
  }
  const Json& v = cfg.value;
  const bool task_is_list = v.contains("task") && v["task"].is_array();
  if (v.contains("group") && v["group"].is_string() && (task_is_list || !v.contains("task"))) {
    s.kind = FileSummary::Kind::kGroup;
    s.name = v["group"].get<std::string>();
    if (task_is_list)
      for (const auto& c : v["task"]) s.names.push_back(child_name(c));
  } else if (v.contains("task") && v["task"].is_string()) {
    s.kind = FileSummary::Kind::kTask;
    s.name = v["task"].get<std::string>();
    tags_of(v, "tag", s.names);
    tags_of(v, "group", s.names);
  }
  return s;
}

namespace {

// The absolute, normalised form of an --include_path directory: the index's key and header.
std::string index_root(const std::string& dir) {
  return fs::absolute(dir).lexically_normal().string();
}

// The same without its trailing '/' ("dir/" normalises to "dir/"): where walks start.
std::string without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

std::vector<FileSummary> index_directory(const std::string& dir, const std::string& index_file,
                                         IndexStats* stats) {
  const std::string root = index_root(dir);
  const std::string start = without_trailing_slash(root);
  std::vector<Found> walked = walk_tree(start);
  std::sort(walked.begin(), walked.end(),
            [](const Found& a, const Found& b) { return path_less(a.path, b.path); });
  std::vector<Found> found, dirs;
  found.reserve(walked.size());
  for (auto& f : walked) (f.dir ? dirs : found).push_back(std::move(f));

  OldIndex old;
  if (!index_file.empty()) read_index(index_file, root, old);
  // Included files are shared by many task files: each is looked at once. -1 = not yet.
  std::vector<int8_t> old_dep_fresh(old.deps.size(), -1);
  auto fresh = [&](size_t id) {
    if (old_dep_fresh[id] < 0)
      old_dep_fresh[id] = stamp_of(old.deps[id].path) == old.deps[id].stamp;
    return old_dep_fresh[id] == 1;
  };
  std::deque<Dep> new_deps;  // stable addresses
  std::unordered_map<std::string, const Dep*> new_dep_at;
  const size_t root_len = start.size() + 1;

  std::vector<Record> records;
  records.reserve(found.size());
  size_t parsed = 0, read = 0, reused = 0;
  size_t k = 0;  // the old lines are in the same order as found: walk both at once
  std::vector<size_t> dep_ids;
  for (auto& f : found) {
    std::string_view rel = std::string_view(f.path).substr(root_len);
    while (k < old.lines.size() && path_less(old.lines[k].rel, rel)) ++k;
    if (k < old.lines.size() && old.lines[k].rel == rel && old.lines[k].stamp == f.stamp) {
      Record r;
      r.stamp = f.stamp;
      dep_ids.clear();
      bool ok = read_summary(old.lines[k].rest, old.deps.size(), r.summary, dep_ids);
      for (size_t id : dep_ids) ok = ok && fresh(id);
      if (ok) {
        r.summary.file = std::move(f.path);
        for (size_t id : dep_ids) r.deps.push_back(&old.deps[id]);
        records.push_back(std::move(r));
        ++reused;
        continue;
      }
    }
    Record r;
    r.stamp = f.stamp;
    std::vector<std::string> files_read;
    r.summary = summarize_file(f.path, &files_read);
    read += files_read.size();
    for (const auto& p : files_read) {
      if (p == f.path) continue;
      auto it = new_dep_at.find(p);
      if (it == new_dep_at.end()) {
        new_deps.push_back(Dep{p, stamp_of(p)});
        it = new_dep_at.emplace(p, &new_deps.back()).first;
      }
      r.deps.push_back(it->second);
    }
    records.push_back(std::move(r));
    ++parsed;
  }
  // Directories are rewritten when their mtimes moved (a file that is not YAML came or
  // went, or one was too new to trust last time), so that TrustedIndex can open it again.
  bool dirs_same = old.dirs.size() == dirs.size();
  const int64_t now = now_ns();
  for (size_t i = 0; dirs_same && i < dirs.size(); ++i)
    dirs_same = old.dirs[i].second == dir_mtime_to_write(dirs[i].stamp.mtime_ns, now) &&
                old.dirs[i].first ==
                    std::string_view(dirs[i].path).substr(std::min(root_len, dirs[i].path.size()));
  if (!index_file.empty() &&
      (reused != old.lines.size() || reused != records.size() || !dirs_same)) {
    std::error_code ec;
    const bool is_new = old.lines.empty() && !fs::exists(index_file, ec);
    write_index(index_file, root, root_len, dirs, records);
    if (is_new) prune_stale(fs::path(index_file).parent_path().string(), index_file);
  }
  log::debug("tasks: indexed {} ({} YAML files, {} parsed now)", root, records.size(), parsed);
  if (stats) {
    stats->files += records.size();
    stats->parsed += parsed;
    stats->read += read;
  }
  std::vector<FileSummary> out;
  out.reserve(records.size());
  for (auto& r : records) out.push_back(std::move(r.summary));
  return out;
}

void NameTable::add(const FileSummary& s) {
  switch (s.kind) {
    case FileSummary::Kind::kNone:
      return;
    case FileSummary::Kind::kBroken:
      broken.insert_or_assign(s.file, Error(s.error_what, s.error_where, s.error_hint));
      return;
    case FileSummary::Kind::kGroup:
      by_name[to_lower(s.name)] = NameEntry{s.name, NameKind::kGroup, s.file, s.names};
      return;
    case FileSummary::Kind::kTask:
      by_name[to_lower(s.name)] = NameEntry{s.name, NameKind::kTask, s.file, {}};
      for (const auto& tag : s.names)  // the `tag` and `group` keys of a task
        merge(to_lower(tag), NameEntry{tag, NameKind::kTag, s.file, {s.name}});
      return;
  }
}

void NameTable::merge(const std::string& lower, const NameEntry& e) {
  auto [it, added] = by_name.try_emplace(lower, e);
  if (added) return;
  NameEntry& cur = it->second;
  if (e.kind != NameKind::kTag) {
    cur = e;
    return;
  }
  if (cur.kind != NameKind::kTag) return;  // a real task or group of that name wins
  for (const auto& m : e.members)
    if (std::find(cur.members.begin(), cur.members.end(), m) == cur.members.end())
      cur.members.push_back(m);
}

const NameEntry* NameTable::find(const std::string& name) const {
  auto it = by_name.find(to_lower(name));
  return it == by_name.end() ? nullptr : &it->second;
}

struct TrustedIndex::Impl {
  std::string root;  // no trailing slash
  std::string text;
  std::vector<Dep> deps;
  size_t files_begin = 0, files_end = 0;  // byte ranges of the F and N lines in text
  size_t names_begin = 0, names_end = 0;

  // The line in [lo, hi) (offsets of whole lines, sorted by their second field under less)
  // whose second field is key; its fields after the key in *rest.
  template <class Less>
  bool search(size_t lo, size_t hi, std::string_view key, Less less, std::string_view* rest) const {
    const std::string_view t = text;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      size_t start = lo;
      if (mid > lo) {
        const size_t nl = t.rfind('\n', mid - 1);
        if (nl != std::string_view::npos && nl + 1 > lo) start = nl + 1;
      }
      size_t end = t.find('\n', start);
      if (end == std::string_view::npos || end > hi) end = hi;
      LineReader in(t.substr(start, end - start));
      in.str();  // the tag
      const std::string k = in.str();
      if (!in.ok()) return false;
      if (k == key) {
        *rest = in.rest();
        return true;
      }
      if (less(k, key))
        lo = end + 1;
      else
        hi = start;
    }
    return false;
  }
};

TrustedIndex::TrustedIndex() : impl_(std::make_unique<Impl>()) {}
TrustedIndex::~TrustedIndex() = default;

std::unique_ptr<TrustedIndex> TrustedIndex::open(const std::string& dir,
                                                 const std::string& index_file) {
  if (index_file.empty()) return nullptr;
  std::unique_ptr<TrustedIndex> out(new TrustedIndex());
  Impl& x = *out->impl_;
  const std::string root = index_root(dir);
  x.root = without_trailing_slash(root);
  try {
    x.text = read_file(index_file);
  } catch (const Error&) {
    return nullptr;
  }
  const std::string_view t = x.text;
  const std::string header = header_of(root);
  if (t.size() <= header.size() || t.substr(0, header.size()) != header ||
      t[header.size()] != '\n' || t.back() != '\n')
    return nullptr;
  size_t pos = header.size() + 1;
  bool any_dir = false;
  while (pos < t.size()) {
    const size_t end = t.find('\n', pos);
    const std::string_view line = t.substr(pos, end - pos);
    if (starts_with(line, "R\t")) {
      LineReader in(line.substr(2));
      const std::string rel = in.str();
      const int64_t mtime = in.num();
      if (!in.ok() || mtime < 0) return nullptr;
      struct stat st;
      const std::string path = rel.empty() ? x.root : x.root + "/" + rel;
      if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || stamp_of(st).mtime_ns != mtime)
        return nullptr;
      any_dir = true;
    } else if (starts_with(line, "D\t")) {
      LineReader in(line.substr(2));
      Dep d;
      d.path = in.str();
      d.stamp.size = in.num();
      d.stamp.mtime_ns = in.num();
      if (!in.ok()) return nullptr;
      x.deps.push_back(std::move(d));
    } else {
      break;
    }
    pos = end + 1;
  }
  if (!any_dir) return nullptr;
  // F lines, then N lines, to the end.
  x.files_begin = pos;
  x.names_begin = t.find("\nN\t", pos > 0 ? pos - 1 : 0);
  x.names_begin = x.names_begin == std::string_view::npos ? t.size() : x.names_begin + 1;
  x.files_end = x.names_begin;
  x.names_end = t.size();
  return out;
}

std::optional<NameEntry> TrustedIndex::find(const std::string& lower) const {
  const Impl& x = *impl_;
  std::string_view rest;
  if (!x.search(
          x.names_begin, x.names_end, lower,
          [](std::string_view a, std::string_view b) { return a < b; }, &rest))
    return std::nullopt;
  LineReader in(rest);
  NameEntry e;
  e.name = in.str();
  const std::string kind = in.str();
  e.kind = kind == "T" ? NameKind::kTask : kind == "G" ? NameKind::kGroup : NameKind::kTag;
  e.file = x.root + "/" + in.str();
  const int64_t n = in.num();
  for (int64_t i = 0; in.ok() && i < n; ++i) e.members.push_back(in.str());
  if (!in.ok()) return std::nullopt;
  return e;
}

bool TrustedIndex::fresh(const std::string& file) const {
  const Impl& x = *impl_;
  if (file.size() <= x.root.size() + 1 || !starts_with(file, x.root) || file[x.root.size()] != '/')
    return true;
  const std::string_view rel = std::string_view(file).substr(x.root.size() + 1);
  std::string_view rest;
  if (!x.search(x.files_begin, x.files_end, rel, path_less, &rest)) return true;
  LineReader in(rest);
  FileStamp recorded;
  recorded.size = in.num();
  recorded.mtime_ns = in.num();
  if (!in.ok() || stamp_of(file) != recorded) return false;
  FileSummary ignored;
  std::vector<size_t> dep_ids;
  if (!read_summary(in.rest(), x.deps.size(), ignored, dep_ids)) return false;
  for (size_t id : dep_ids)
    if (stamp_of(x.deps[id].path) != x.deps[id].stamp) return false;
  return true;
}

std::string default_index_file(const std::string& dir) {
  const char* off = std::getenv("RETORT_TASK_INDEX");
  if (off && std::string_view(off) == "off") return "";
  const std::string base = user_cache_folder();
  if (base.empty()) return "";
  return base + "/task_index/" + sha256_hex(index_root(dir)).substr(0, 24) + ".tsv";
}

}  // namespace retort::tasks_internal
