#include "data/resolve.h"

#include <algorithm>
#include <map>
#include <set>

#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

// Matches a bracket expression at p[0] == '['; sets `len` to its length in the pattern.
// Returns false (and len = 0) when the class is not closed: then '[' is literal.
bool class_match(std::string_view p, char c, size_t& len) {
  size_t i = 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      i += 3;
    } else {
      ++i;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  if (i >= p.size()) {
    len = 0;
    return false;
  }
  len = i + 1;
  return matched != negate;
}

bool glob_rec(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**") {
      size_t k = 0;
      while (k < p.size() && p[k] == '*') ++k;
      std::string_view rest = p.substr(k);
      if (!rest.empty() && rest[0] == '/') {
        // "**/" matches zero or more whole directories.
        std::string_view after = rest.substr(1);
        if (glob_rec(after, s)) return true;
        for (size_t i = 0; i < s.size(); ++i) {
          if (s[i] == '/' && glob_rec(after, s.substr(i + 1))) return true;
        }
        return false;
      }
      for (size_t i = 0; i <= s.size(); ++i) {
        if (glob_rec(rest, s.substr(i))) return true;
      }
      return false;
    }
    char c = p[0];
    if (c == '*') {
      std::string_view rest = p.substr(1);
      for (size_t i = 0; i <= s.size(); ++i) {
        if (glob_rec(rest, s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') return false;
      }
      return false;
    }
    if (s.empty()) return false;
    if (c == '?') {
      if (s[0] == '/') return false;
    } else if (c == '[') {
      size_t len = 0;
      bool ok = class_match(p, s[0], len);
      if (len > 0) {
        if (!ok || s[0] == '/') return false;
        p.remove_prefix(len);
        s.remove_prefix(1);
        continue;
      }
      if (s[0] != '[') return false;
    } else if (c != s[0]) {
      return false;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

std::string_view strip_compression(std::string_view path) {
  for (std::string_view ext : {".gz", ".zst", ".bz2", ".xz"}) {
    if (ends_with(path, ext)) return path.substr(0, path.size() - ext.size());
  }
  return path;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_sep(char c) {
  return c == '-' || c == '.' || c == '_' || c == ' ' || (c >= '0' && c <= '9');
}

const std::vector<std::vector<std::string>>& keyword_groups() {
  static const std::vector<std::vector<std::string>> groups = {
      {"train", "training"},
      {"validation", "valid", "dev", "val"},
      {"test", "testing", "eval"},
  };
  return groups;
}

bool names_keyword(std::string_view path, const std::string& kw) {
  std::vector<std::string> parts = split(path, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == kw) return true;
  }
  std::string base = to_lower(basename_of(path));
  for (size_t pos = base.find(kw); pos != std::string::npos; pos = base.find(kw, pos + 1)) {
    bool left_ok = pos == 0 || is_sep(base[pos - 1]);
    size_t end = pos + kw.size();
    bool right_ok = end == base.size() || is_sep(base[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

int split_rank(const std::string& name) {
  std::string s = canonical_split(name);
  if (s == "train") return 0;
  if (s == "validation") return 1;
  if (s == "test") return 2;
  return 3;
}

std::vector<std::string> as_string_list(const Json& v, const std::string& where) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string()) throw Error("expected a file path or a list of paths", where);
      out.push_back(e.get<std::string>());
    }
  } else {
    throw Error("expected a file path or a list of paths", where);
  }
  return out;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return glob_rec(pattern, path);
}

bool has_glob_chars(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

bool is_data_file(std::string_view path) {
  std::string p = to_lower(strip_compression(path));
  for (std::string_view ext : {".parquet", ".jsonl", ".json", ".csv", ".tsv", ".txt"}) {
    if (ends_with(p, ext)) {
      std::string_view base = basename_of(p);
      // Repo metadata, not rows.
      return base != "dataset_infos.json" && base != "dataset_info.json" &&
             base != "dataset_dict.json" && base != "state.json";
    }
  }
  return false;
}

std::vector<std::string> split_keywords(const std::string& split) {
  for (const auto& g : keyword_groups()) {
    if (std::find(g.begin(), g.end(), split) != g.end()) return g;
  }
  return {split};
}

std::string canonical_split(const std::string& split) {
  return split_keywords(split)[0];
}

bool file_names_split(std::string_view path, const std::string& split) {
  for (const auto& kw : split_keywords(split)) {
    if (names_keyword(path, kw)) return true;
  }
  return false;
}

void sort_splits(SplitFiles& splits) {
  std::stable_sort(splits.begin(), splits.end(), [](const auto& a, const auto& b) {
    int ra = split_rank(a.first), rb = split_rank(b.first);
    if (ra != rb) return ra < rb;
    return ra == 3 && a.first < b.first;
  });
}

SplitFiles splits_from_file_names(const std::vector<std::string>& files) {
  SplitFiles out;
  std::vector<std::string> data;
  for (const auto& f : files) {
    if (is_data_file(f)) data.push_back(f);
  }
  std::sort(data.begin(), data.end());
  for (const auto& g : keyword_groups()) {
    std::vector<std::string> hit;
    for (const auto& f : data) {
      if (file_names_split(f, g[0])) hit.push_back(f);
    }
    if (!hit.empty()) out.emplace_back(g[0], std::move(hit));
  }
  if (out.empty() && !data.empty()) out.emplace_back("train", std::move(data));
  return out;
}

std::vector<std::string> match_files(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& files) {
  std::set<std::string> hit;
  for (std::string pat : patterns) {
    while (starts_with(pat, "./")) pat = pat.substr(2);
    bool glob = has_glob_chars(pat);
    std::string dir_prefix = ends_with(pat, "/") ? pat : pat + "/";
    for (const auto& f : files) {
      if (glob ? glob_match(pat, f) : (f == pat || starts_with(f, dir_prefix))) hit.insert(f);
    }
  }
  return {hit.begin(), hit.end()};
}

std::vector<CardConfig> card_configs(const Json& card_data) {
  std::vector<CardConfig> out;
  if (!card_data.is_object() || !card_data.contains("configs")) return out;
  const Json& configs = card_data["configs"];
  if (!configs.is_array()) throw Error("`configs` is not a list", "dataset card");
  for (const auto& c : configs) {
    if (!c.is_object()) throw Error("a `configs` entry is not a mapping", "dataset card");
    CardConfig cc;
    cc.name = c.contains("config_name") && c["config_name"].is_string()
                  ? c["config_name"].get<std::string>()
                  : "default";
    std::string where = "dataset card: configs[" + cc.name + "]";
    cc.is_default = c.contains("default") && c["default"].is_boolean() && c["default"].get<bool>();
    if (c.contains("data_dir") && c["data_dir"].is_string()) {
      cc.data_dir = c["data_dir"].get<std::string>();
    }
    if (c.contains("data_files")) {
      const Json& df = c["data_files"];
      if (df.is_string() || (df.is_array() && !df.empty() && df[0].is_string())) {
        cc.data_files.emplace_back("train", as_string_list(df, where + ".data_files"));
      } else if (df.is_array()) {
        for (const auto& e : df) {
          if (!e.is_object() || !e.contains("path")) {
            throw Error("a data_files entry needs `split` and `path`", where + ".data_files");
          }
          std::string split = e.contains("split") && e["split"].is_string()
                                  ? e["split"].get<std::string>()
                                  : "train";
          cc.data_files.emplace_back(split, as_string_list(e["path"], where + ".data_files"));
        }
      } else if (df.is_object()) {
        for (const auto& [split, paths] : df.items()) {
          cc.data_files.emplace_back(split, as_string_list(paths, where + ".data_files"));
        }
      }
    }
    out.push_back(std::move(cc));
  }
  return out;
}

std::vector<FileConfig> configs_from_file_names(const std::vector<std::string>& files) {
  // Top-level folders (other than "data" and split names) whose files name splits.
  std::map<std::string, std::vector<std::string>> by_dir;
  std::vector<std::string> data;
  for (const auto& f : files) {
    if (!is_data_file(f)) continue;
    data.push_back(f);
    size_t slash = f.find('/');
    if (slash == std::string::npos) continue;
    std::string dir = f.substr(0, slash);
    if (dir == "data" || split_keywords(dir).size() > 1 || starts_with(dir, ".")) continue;
    std::string rest = f.substr(slash + 1);
    bool named = false;
    for (const auto& g : keyword_groups()) {
      if (file_names_split(rest, g[0])) named = true;
    }
    if (named) by_dir[dir].push_back(rest);
  }
  std::vector<FileConfig> out;
  if (!by_dir.empty()) {
    for (auto& [dir, rel] : by_dir) {
      FileConfig fc;
      fc.name = dir;
      fc.splits = splits_from_file_names(rel);
      for (auto& [split, paths] : fc.splits) {
        for (auto& p : paths) p = dir + "/" + p;
      }
      out.push_back(std::move(fc));
    }
    return out;
  }
  if (!data.empty()) out.push_back({"default", splits_from_file_names(data)});
  return out;
}

}  // namespace retort
