// File names and writing (loggers/evaluation_tracker.py:save_results_aggregated and
// save_results_samples), every file written atomically.
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "report/report.h"
#include "util/error.h"
#include "util/json_parse.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace fs = std::filesystem;

std::string date_id(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto us_total = duration_cast<microseconds>(t.time_since_epoch()).count();
  int64_t secs = us_total / 1000000;
  int64_t us = us_total % 1000000;
  if (us < 0) {
    us += 1000000;
    secs -= 1;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm local{};
  localtime_r(&tt, &local);
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}-{:02}-{:02}", local.tm_year + 1900, local.tm_mon + 1,
                  local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
  if (us != 0) out += fmt::format(".{:06}", us);
  return out;
}

std::string sanitize_model_name(std::string_view name) {
  static const std::string_view kSpecial = "\"<>:/|\\?*[]";
  std::string out;
  bool in_run = false;
  for (char c : name) {
    if (kSpecial.find(c) != std::string_view::npos) {
      if (!in_run) out += "__";
      in_run = true;
    } else {
      out += c;
      in_run = false;
    }
  }
  return out;
}

OutputPaths plan_output_paths(const std::string& output_path, const std::string& model_sanitized,
                              const std::string& id, const std::vector<std::string>& task_names,
                              bool log_samples) {
  OutputPaths paths;
  fs::path out(output_path.empty() ? "." : output_path);
  fs::path dir;
  if (out.extension() == ".json") {
    dir = out.parent_path();
    std::string stem = out.stem().string();
    paths.results_json = (dir / (stem + "_" + id + ".json")).string();
    paths.html = (dir / (stem + "_" + id + ".html")).string();
  } else {
    dir = out / model_sanitized;
    paths.results_json = (dir / ("results_" + id + ".json")).string();
    paths.html = (dir / ("report_" + id + ".html")).string();
  }
  if (log_samples) {
    for (const auto& t : task_names) {
      paths.samples_jsonl.push_back((dir / ("samples_" + t + "_" + id + ".jsonl")).string());
    }
  }
  return paths;
}

OutputPaths write_outputs(const RunResult& run, const std::string& output_path, bool log_samples) {
  OutputOptions options;
  options.log_samples = log_samples;
  return write_outputs(run, output_path, options);
}

OutputPaths write_outputs(const RunResult& run, const std::string& output_path,
                          const OutputOptions& options) {
  auto now = options.now ? *options.now : std::chrono::system_clock::now();
  std::vector<std::string> task_names;
  for (const auto& t : run.tasks) task_names.push_back(t.name);
  OutputPaths paths = plan_output_paths(output_path, sanitize_model_name(run.model_name),
                                        date_id(now), task_names, options.log_samples);
  auto absolute = [](const std::string& p) { return fs::absolute(p).lexically_normal().string(); };

  // Samples first, results last: a results file on disk means its samples are complete.
  if (options.log_samples) {
    for (size_t i = 0; i < run.tasks.size(); ++i) {
      std::string content;
      for (const auto& line : sample_lines(run.tasks[i])) {
        content += line;
        content += '\n';
      }
      write_file_atomic(paths.samples_jsonl[i], content);
      paths.samples_jsonl[i] = absolute(paths.samples_jsonl[i]);
    }
  }
  write_file_atomic(paths.results_json, results_json_text(run, options.log_samples));
  paths.results_json = absolute(paths.results_json);
  std::string html_path = paths.html;
  paths.html.clear();
  if (options.write_html) {
    // The report is a convenience: failing to write it must not fail a finished run.
    try {
      write_file_atomic(html_path, render_html(run, options.html_samples_per_task));
      paths.html = absolute(html_path);
    } catch (const std::exception& e) {
      log::warn("could not write the HTML report {}: {}", html_path, e.what());
    }
  }
  return paths;
}

}  // namespace retort

namespace retort {

LoadedResults load_results(const std::string& results_path) {
  LoadedResults loaded;
  std::string text = read_file(results_path);
  loaded.results = Json::parse(text, nullptr, false);
  if (loaded.results.is_discarded() || !loaded.results.is_object()) {
    throw Error("not a results JSON file (expected one JSON object)", results_path,
                "pass the results_<date>.json file that `retort run --output_path` wrote");
  }
  if (!loaded.results.contains("results")) {
    throw Error("no \"results\" key: not an lm-eval / retort results file", results_path);
  }
  fs::path p(results_path);
  std::string stem = p.stem().string();
  auto us = stem.rfind('_');
  if (us == std::string::npos) return loaded;
  std::string id = stem.substr(us + 1);
  fs::path dir = p.parent_path();
  std::vector<std::string> tasks;
  const Json& configs = loaded.results.contains("configs") ? loaded.results["configs"] : Json();
  if (configs.is_object()) {
    for (const auto& [name, cfg] : configs.items()) tasks.push_back(name);
  }
  for (const auto& task : tasks) {
    fs::path f = dir / ("samples_" + task + "_" + id + ".jsonl");
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) continue;
    std::string content = read_file(f.string());
    auto& records = loaded.samples[task];
    FastJsonParser fast;  // one per file: its scratch serves every line
    size_t line_no = 0, pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      if (nl == std::string::npos) nl = content.size();
      ++line_no;
      std::string_view line(content.data() + pos, nl - pos);
      pos = nl + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      Json rec;
      // What parse_json_fast declines, nlohmann reads (and judges) as before.
      if (!fast.parse(line, rec)) rec = Json::parse(line, nullptr, false);
      if (rec.is_discarded()) {
        throw Error("invalid JSON in samples file", f.string() + ":" + std::to_string(line_no));
      }
      records.push_back(std::move(rec));
    }
    loaded.samples_files.push_back(fs::absolute(f).lexically_normal().string());
  }
  return loaded;
}

std::string default_html_path(const std::string& results_path) {
  fs::path p(results_path);
  std::string stem = p.stem().string();
  if (stem.rfind("results_", 0) == 0) stem = "report_" + stem.substr(8);
  return (p.parent_path() / (stem + ".html")).string();
}

}  // namespace retort
