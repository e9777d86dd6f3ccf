// `retort data dump|info SOURCE`: look at a dataset before writing a task. SOURCE is a local
// file (jsonl, json, csv, parquet; .gz/.zst), a local directory of such files, or a Hugging
// Face Hub dataset id.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/commands.h"
#include "data/data.h"
#include "data/formats.h"
#include "data/hub.h"
#include "data/jsonl.h"
#include "data/parquet.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: retort data dump SOURCE [--config C] [--split S] [--revision R] [--limit N]\n"
    "                        [--columns a,b]\n"
    "       retort data info SOURCE [--config C] [--split S] [--revision R]\n"
    "\n"
    "SOURCE is a data file (.jsonl .json .csv .parquet, optionally .gz/.zst), a directory\n"
    "of them, or a Hugging Face Hub dataset id (org/name).\n"
    "  dump   prints rows as JSON Lines (nested values as JSON, binary as base64)\n"
    "  info   prints the format, row counts, row groups and schema\n";

struct DataArgs {
  std::string action, source, config, split, revision;
  int64_t limit = -1;
  std::vector<std::string> columns;
};

DataArgs parse_args(const Args& args) {
  DataArgs a;
  std::vector<std::string> pos;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& s = args[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (auto eq = s.find('='); eq != std::string::npos) return s.substr(eq + 1);
      if (i + 1 >= args.size()) throw Error("missing value for " + flag, "retort data", kUsage);
      return args[++i];
    };
    auto is = [&](const char* flag) {
      return s == flag || starts_with(s, std::string(flag) + "=");
    };
    if (is("--config") || is("--name")) {
      a.config = value("--config");
    } else if (is("--split")) {
      a.split = value("--split");
    } else if (is("--revision")) {
      a.revision = value("--revision");
    } else if (is("--limit") || is("-n")) {
      std::string v = value("--limit");
      try {
        size_t used = 0;
        a.limit = std::stoll(v, &used);
        if (used != v.size() || a.limit < 0) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw Error("--limit wants a non-negative number, got '" + v + "'", "retort data");
      }
    } else if (is("--columns")) {
      for (auto& c : split(value("--columns"), ',')) {
        if (!trim(c).empty()) a.columns.push_back(trim(c));
      }
    } else if (starts_with(s, "-") && s.size() > 1) {
      throw Error("unknown option '" + s + "'", "retort data", kUsage);
    } else {
      pos.push_back(s);
    }
  }
  if (pos.size() != 2) throw Error("expected an action and a SOURCE", "retort data", kUsage);
  a.action = pos[0];
  a.source = pos[1];
  if (a.action != "dump" && a.action != "info") {
    throw Error("unknown action '" + a.action + "' (use dump or info)", "retort data", kUsage);
  }
  return a;
}

// Data files of a local directory (recursively, sorted).
std::vector<std::string> directory_files(const std::string& dir) {
  std::vector<std::string> all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && detect_format(e.path().string()) != FileFormat::kUnknown) {
      all.push_back(e.path().string());
    }
  }
  std::sort(all.begin(), all.end());
  return all;
}

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::kJsonl:
      return "jsonl";
    case FileFormat::kJson:
      return "json";
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kParquet:
      return "parquet";
    default:
      return "unknown";
  }
}

// Dumps rows of files in order, up to the limit; parquet is streamed a row group at a time.
void dump_files(const std::vector<std::string>& files, const DataArgs& a) {
  std::string buf;
  auto flush = [&] {
    std::fwrite(buf.data(), 1, buf.size(), stdout);
    buf.clear();
  };
  auto print = [&](const std::vector<Doc>& rows) {
    for (const Doc& row : rows) {
      append_json_line(row, buf);
      if (buf.size() > (1 << 20)) flush();
    }
  };
  int64_t left = a.limit;
  for (const auto& f : files) {
    if (left == 0) break;
    ReadOptions o;
    o.columns = a.columns;
    o.limit = left;
    size_t n = 0;
    if (detect_format(f) == FileFormat::kParquet) {
      read_parquet_batches(f, o, [&](std::vector<Doc>& rows) {
        print(rows);
        n += rows.size();
      });
    } else {
      std::vector<Doc> rows = read_rows(f, o);
      print(rows);
      n = rows.size();
    }
    if (left > 0) left -= std::min<int64_t>(left, static_cast<int64_t>(n));
  }
  flush();
  std::fflush(stdout);
}

std::string json_type(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  if (v.is_string()) return "string";
  if (v.is_array()) return "list<" + (v.empty() ? std::string("?") : json_type(v[0])) + ">";
  std::string t = "struct<";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first) t += ", ";
    first = false;
    t += it.key() + ": " + json_type(*it);
  }
  return t + ">";
}

void print_file_info(const std::string& path) {
  FileFormat f = detect_format(path);
  std::printf("file: %s\nformat: %s\n", path.c_str(), format_name(f));
  if (f == FileFormat::kParquet) {
    ParquetInfo info = parquet_info(path);
    std::printf("rows: %lld\n", static_cast<long long>(info.num_rows));
    std::printf("row groups: %zu\n", info.row_groups.size());
    if (!info.created_by.empty()) std::printf("created by: %s\n", info.created_by.c_str());
    std::map<std::string, size_t> codecs;
    std::vector<std::string> encs;
    for (const auto& rg : info.row_groups) {
      for (const auto& c : rg.codecs) ++codecs[c];
      for (const auto& e : rg.encodings) {
        for (const auto& x : e) {
          if (std::find(encs.begin(), encs.end(), x) == encs.end()) encs.push_back(x);
        }
      }
    }
    std::vector<std::string> cs;
    for (const auto& [c, n] : codecs) cs.push_back(c);
    if (!cs.empty()) std::printf("compression: %s\n", join(cs, ", ").c_str());
    if (!encs.empty()) std::printf("encodings: %s\n", join(encs, ", ").c_str());
    std::printf("columns:\n");
    for (const auto& [name, type] : info.column_types) {
      std::printf("  %s: %s\n", name.c_str(), type.c_str());
    }
    for (const auto& [k, v] : info.key_value_metadata) {
      if (k == "huggingface") {
        Json j = Json::parse(v, nullptr, false);
        if (!j.is_discarded() && j.contains("info") && j["info"].contains("features")) {
          std::printf(
              "features (huggingface): %s\n",
              j["info"]["features"].dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
          continue;
        }
      }
      std::printf("metadata: %s (%zu bytes)\n", k.c_str(), v.size());
    }
    return;
  }
  std::vector<Doc> rows = read_rows(path);
  std::printf("rows: %zu\ncolumns:\n", rows.size());
  if (!rows.empty()) {
    for (auto it = rows[0].begin(); it != rows[0].end(); ++it) {
      // The first non-null value names the type.
      std::string t = "null";
      for (const auto& r : rows) {
        auto v = r.find(it.key());
        if (v != r.end() && !v->is_null()) {
          t = json_type(*v);
          break;
        }
      }
      std::printf("  %s: %s\n", it.key().c_str(), t.c_str());
    }
  }
}

int run_local(const DataArgs& a) {
  std::vector<std::string> files;
  if (fs::is_directory(a.source)) {
    if (a.action == "dump" && !a.split.empty()) {
      // A split of a directory is found the way tasks find it (file names, as `datasets`).
      DatasetRef ref;
      ref.path = fs::absolute(a.source).string();
      ref.name = a.config;
      ref.columns = a.columns;
      std::vector<Doc> rows = load_split(ref, a.split);
      if (a.limit >= 0 && rows.size() > static_cast<size_t>(a.limit)) {
        rows.resize(static_cast<size_t>(a.limit));
      }
      std::string buf;
      for (const Doc& row : rows) append_json_line(row, buf);
      std::fwrite(buf.data(), 1, buf.size(), stdout);
      return 0;
    }
    files = directory_files(a.source);
    if (files.empty()) throw Error("no data files in directory", a.source);
  } else {
    files = {a.source};
  }
  if (a.action == "dump") {
    dump_files(files, a);
  } else {
    for (size_t i = 0; i < files.size(); ++i) {
      if (i) std::printf("\n");
      print_file_info(files[i]);
    }
  }
  return 0;
}

int run_hub(const DataArgs& a) {
  if (a.action == "info") {
    HubDatasetInfo info = hub_dataset_info(a.source, a.revision);
    std::printf("dataset: %s\nrevision: %s\ncommit: %s\n", info.repo.c_str(), info.revision.c_str(),
                info.commit.c_str());
    std::printf("configs (from %s):\n", info.source.c_str());
    for (const auto& c : info.configs) {
      if (!a.config.empty() && c.name != a.config) continue;
      std::printf("  %s%s\n", c.name.c_str(), c.is_default ? " (default)" : "");
      for (const auto& s : c.splits) {
        std::printf("    %s: %s\n", s.name.c_str(), join(s.files, ", ").c_str());
      }
    }
    // Row counts and schema need the files: only for an explicitly chosen split.
    if (!a.split.empty()) {
      auto files = hub_resolve_files(a.source, a.config, a.split, a.revision);
      for (const auto& f : files) {
        std::printf("\n");
        print_file_info(f);
      }
    } else {
      std::printf("\n(add --split S to download that split and show its row counts and schema)\n");
    }
    return 0;
  }
  std::string split_name = a.split;
  if (split_name.empty()) {
    HubDatasetInfo info = hub_dataset_info(a.source, a.revision);
    for (const auto& c : info.configs) {
      if ((a.config.empty() ? c.is_default || info.configs.size() == 1 : c.name == a.config) &&
          !c.splits.empty()) {
        split_name = c.splits.front().name;
        break;
      }
    }
    if (split_name.empty()) {
      throw Error("say which split to dump", a.source, "add --split (see 'retort data info')");
    }
  }
  dump_files(hub_resolve_files(a.source, a.config, split_name, a.revision), a);
  return 0;
}

}  // namespace

int cmd_data(const Args& args) {
  for (const auto& s : args) {
    if (s == "--help" || s == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  DataArgs a = parse_args(args);
  if (fs::exists(a.source)) return run_local(a);
  if (detect_format(a.source) != FileFormat::kUnknown || !looks_like_hub_repo(a.source)) {
    throw Error("no such file or directory", a.source, "check the path");
  }
  return run_hub(a);
}

}  // namespace retort::cli
