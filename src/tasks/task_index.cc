#include "tasks/task_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
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

namespace retort::tasks_internal {

namespace fs = std::filesystem;

namespace {

// Bumped whenever the line format or what a summary holds changes.
constexpr std::string_view kIndexHeader = "retort-task-index 2";

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
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
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
//   retort-task-index 2 <root>
//   D <path> <size> <mtime>                                  -- included files, id = order
//   F <path under root> <size> <mtime> <kind> <name> <error what> <error where> <error hint>
//     <n> <n names> <m> <m ids of D lines>                   -- one per YAML file, path order
// Only the path and stamp of an F line are parsed up front; the rest when it is reused.
struct OldIndex {
  std::string text;  // the lines point into it
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
    if (tag == "D") {
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

void write_index(const std::string& index_file, const std::string& root, size_t root_len,
                 const std::vector<Record>& records) {
  std::string deps, files;
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
  try {
    write_file_atomic(index_file, header_of(root) + "\n" + deps + files);
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

std::vector<FileSummary> index_directory(const std::string& dir, const std::string& index_file,
                                         IndexStats* stats) {
  const std::string root = fs::absolute(dir).lexically_normal().string();
  std::string start = root;
  while (start.size() > 1 && start.back() == '/') start.pop_back();
  std::vector<Found> found = walk_tree(start);
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return path_less(a.path, b.path); });

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
  if (!index_file.empty() && (reused != old.lines.size() || reused != records.size())) {
    std::error_code ec;
    const bool is_new = old.lines.empty() && !fs::exists(index_file, ec);
    write_index(index_file, root, root_len, records);
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

std::string default_index_file(const std::string& dir) {
  const char* off = std::getenv("RETORT_TASK_INDEX");
  if (off && std::string_view(off) == "off") return "";
  std::string base;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    if (!home || !*home) return "";
    base = std::string(home) + "/.cache";
  }
  const std::string root = fs::absolute(dir).lexically_normal().string();
  return base + "/retort/task_index/" + sha256_hex(root).substr(0, 24) + ".tsv";
}

}  // namespace retort::tasks_internal
