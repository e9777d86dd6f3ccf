#include "tasks/task_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
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
constexpr std::string_view kIndexHeader = "retort-task-index 1";

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

// readdir + fstatat rather than std::filesystem's iterator: one stat per YAML file and none
// for anything else, which is what makes a warm look over ~14,000 files cheap.
void walk(const std::string& dir, std::vector<Found>& out,
          std::set<std::pair<dev_t, ino_t>>& seen) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const int fd = ::dirfd(d);
  struct stat self;
  if (::fstat(fd, &self) != 0 || !seen.insert({self.st_dev, self.st_ino}).second) {
    ::closedir(d);  // a symlink back into a directory already walked
    return;
  }
  std::vector<std::string> subdirs;
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
  for (const auto& s : subdirs) walk(s, out, seen);
}

// std::filesystem::path's order (component by component) on plain strings: '/' sorts
// before every other byte. The registry lets later files win name clashes, so the order
// must not change with the implementation.
bool path_less(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
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
    if (f.empty()) {
      fail();
      return 0;
    }
    char* end = nullptr;
    std::string s(f);
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (*end != '\0') fail();
    return v;
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
  std::string fail() {
    ok_ = false;
    return {};
  }
  std::string_view rest_;
  bool ok_ = true;
};

struct Record {
  FileStamp stamp;
  FileSummary summary;
  std::vector<std::pair<std::string, FileStamp>> deps;  // included files, as looked for
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

void write_record(std::string& out, const Record& r) {
  const FileSummary& s = r.summary;
  put(out, s.file);
  put(out, r.stamp.size);
  put(out, r.stamp.mtime_ns);
  put(out, std::string(1, kind_char(s.kind)));
  put(out, s.name);
  put(out, s.error_what);
  put(out, s.error_where);
  put(out, s.error_hint);
  put(out, static_cast<int64_t>(s.names.size()));
  for (const auto& n : s.names) put(out, n);
  put(out, static_cast<int64_t>(r.deps.size()));
  for (const auto& [path, st] : r.deps) {
    put(out, path);
    put(out, st.size);
    put(out, st.mtime_ns);
  }
  out += '\n';  // every field, the last too, ends with a tab
}

bool read_record(std::string_view line, Record& r) {
  LineReader in(line);
  r.summary.file = in.str();
  r.stamp.size = in.num();
  r.stamp.mtime_ns = in.num();
  if (!in.ok() || !kind_of(in.str(), r.summary.kind)) return false;
  r.summary.name = in.str();
  r.summary.error_what = in.str();
  r.summary.error_where = in.str();
  r.summary.error_hint = in.str();
  const int64_t n = in.num();
  for (int64_t i = 0; in.ok() && i < n; ++i) r.summary.names.push_back(in.str());
  const int64_t m = in.num();
  for (int64_t i = 0; in.ok() && i < m; ++i) {
    std::string path = in.str();
    FileStamp st;
    st.size = in.num();
    st.mtime_ns = in.num();
    r.deps.emplace_back(std::move(path), st);
  }
  return in.ok();
}

// The index file's records by path; empty when it is missing, foreign or damaged.
std::unordered_map<std::string, Record> read_index(const std::string& index_file,
                                                   const std::string& dir) {
  std::unordered_map<std::string, Record> out;
  std::string text;
  try {
    text = read_file(index_file);
  } catch (const Error&) {
    return out;
  }
  std::string_view rest = text;
  auto next_line = [&rest](std::string_view& line) {
    if (rest.empty()) return false;
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;  // a torn last line: not ours
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return true;
  };
  std::string_view line;
  std::string header = std::string(kIndexHeader) + "\t";
  put(header, dir);
  header.pop_back();
  if (!next_line(line) || line != header) return out;
  while (next_line(line)) {
    Record r;
    if (!read_record(line, r)) {
      log::debug("tasks: the task index {} is damaged; rebuilding it", index_file);
      return {};
    }
    std::string key = r.summary.file;
    out.emplace(std::move(key), std::move(r));
  }
  return out;
}

void write_index(const std::string& index_file, const std::string& dir,
                 const std::vector<Record>& records) {
  std::string text = std::string(kIndexHeader) + "\t";
  put(text, dir);
  text.back() = '\n';
  for (const auto& r : records) write_record(text, r);
  try {
    write_file_atomic(index_file, text);
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
    LineReader r(header.substr(prefix.size()) + "\t");
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
  std::vector<Found> found;
  std::set<std::pair<dev_t, ino_t>> seen;
  walk(start, found, seen);
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return path_less(a.path, b.path); });

  std::unordered_map<std::string, Record> cached;
  if (!index_file.empty()) cached = read_index(index_file, root);
  std::unordered_map<std::string, FileStamp> dep_stamps;  // includes are shared: stat once
  auto dep_stamp = [&dep_stamps](const std::string& path) {
    auto it = dep_stamps.find(path);
    if (it != dep_stamps.end()) return it->second;
    FileStamp st = stamp_of(path);
    dep_stamps.emplace(path, st);
    return st;
  };

  std::vector<Record> records;
  records.reserve(found.size());
  size_t parsed = 0, read = 0;
  for (auto& f : found) {
    auto it = cached.find(f.path);
    if (it != cached.end() && it->second.stamp == f.stamp) {
      bool fresh = true;
      for (const auto& [path, st] : it->second.deps)
        if (!(dep_stamp(path) == st)) {
          fresh = false;
          break;
        }
      if (fresh) {
        records.push_back(std::move(it->second));
        continue;
      }
    }
    Record r;
    r.stamp = f.stamp;
    std::vector<std::string> files_read;
    r.summary = summarize_file(f.path, &files_read);
    read += files_read.size();
    for (const auto& p : files_read)
      if (p != f.path) r.deps.emplace_back(p, dep_stamp(p));
    records.push_back(std::move(r));
    ++parsed;
  }
  if (!index_file.empty() && (parsed > 0 || cached.size() != records.size())) {
    std::error_code ec;
    const bool is_new = cached.empty() && !fs::exists(index_file, ec);
    write_index(index_file, root, records);
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
