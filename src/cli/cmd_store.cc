// The results database from the command line: `retort runs list|show|rm`,
// `retort leaderboard`, `retort compare A B` and `retort gate --baseline A --candidate B`.
// A run reference is a results file (with its samples files beside it) or a run in the
// database: a full id, a unique prefix, `latest` or `latest~N`.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <regex>

#include "cli/commands.h"
#include "report/report.h"
#include "store/compare.h"
#include "store/runs_html.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort::cli {

namespace {

namespace fs = std::filesystem;

// CLI11 parses a reversed vector of the arguments after the subcommand name.
template <typename App>
bool parse_args(App& app, const Args& args, size_t skip, int& exit_code) {
  std::vector<std::string> rev(args.rbegin(), args.rend() - static_cast<long>(skip));
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return false;
  }
  return true;
}

std::string db_location(const std::string& db) {
  return db.empty() ? store::default_db_location() : db;
}

std::string utc_time(double unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::vector<std::string> split_tasks(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const auto& r : raw)
    for (const auto& p : split(r, ','))
      if (!trim(p).empty()) out.push_back(trim(p));
  return out;
}

// with_texts: the samples' prompt/response/target/extracted texts too (a results file's
// samples always carry them).
store::StoredRun load_ref(const std::string& ref, const std::string& db, bool with_samples,
                          bool with_texts = true) {
  if (fs::is_regular_file(ref)) {
    LoadedResults loaded = load_results(ref);
    return store::stored_run_from_results(loaded.results, loaded.samples, ref);
  }
  if (ends_with(ref, ".json") || ref.find('/') != std::string::npos)
    throw Error("no such results file", ref,
                "give a results_*.json written by `retort run`, or a run id from "
                "`retort runs list`");
  auto s = store::ResultsStore::open(db_location(db));
  return s->load(s->resolve(ref), with_samples, with_texts);
}

std::string run_line(const char* label, const store::StoredRun& r) {
  std::string when = r.started > 0 ? "  " + utc_time(r.started) + " UTC" : "";
  return fmt::format("{}: {}  {}{}\n", label, r.id, r.model, when);
}

double scale(const store::MetricComparison& m) {
  return m.proportion ? 100.0 : 1.0;
}

const char* test_name(const std::string& method) {
  if (method == "mcnemar") return "McNemar";
  if (method == "clustered-t") return "clustered t";
  return "bootstrap";
}

std::string fmt_p(double p) {
  return p < 0.0001 ? std::string("<0.0001") : fmt::format("{:.2g}", p);
}

Json comparison_json(const std::vector<store::TaskComparison>& cmp, const store::StoredRun& a,
                     const store::StoredRun& b) {
  Json out = Json::object();
  out["a"] = {{"run", a.id}, {"model", a.model}};
  out["b"] = {{"run", b.id}, {"model", b.model}};
  Json tasks = Json::array();
  for (const auto& t : cmp) {
    Json j = {{"task", t.task},     {"kind", t.kind},     {"shared_docs", t.shared},
              {"only_a", t.only_a}, {"only_b", t.only_b}, {"notes", t.notes}};
    if (t.refused) j["refused"] = t.reason;
    Json ms = Json::array();
    for (const auto& m : t.metrics) {
      const auto& s = m.stats;
      ms.push_back({{"metric", m.metric},
                    {"filter", m.filter},
                    {"n", s.n},
                    {"units", s.units},
                    {"a", s.mean_a},
                    {"b", s.mean_b},
                    {"diff", s.diff},
                    {"stderr", s.se},
                    {"stderr_iid", s.se_iid},
                    {"ci95", Json::array({s.ci_low, s.ci_high})},
                    {"p_value", s.p_value},
                    {"test", s.method},
                    {"higher_is_better", m.higher_is_better},
                    {"summary", m.sentence}});
    }
    j["metrics"] = ms;
    tasks.push_back(j);
  }
  out["tasks"] = tasks;
  return out;
}

// ---------------------------------------------------------------------------------------

int runs_list(const Args& args) {
  CLI::App app{"List the runs in the results database, newest first.", "retort runs list"};
  std::string db, model, format = "text";
  size_t limit = 50;
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  app.add_option("--model", model, "only runs whose model contains this");
  app.add_option("--limit,-n", limit, "at most this many runs (0 = all)")->capture_default_str();
  app.add_option("--format", format, "text or json")->capture_default_str();
  int rc = 0;
  if (!parse_args(app, args, 2, rc)) return rc;
  auto s = store::ResultsStore::open(db_location(db));
  auto runs = s->list(model, limit);
  if (format == "json") {
    Json j = Json::array();
    for (const auto& r : runs)
      j.push_back({{"id", r.id},
                   {"model", r.model},
                   {"status", r.status},
                   {"started", r.started},
                   {"duration_s", r.duration_s},
                   {"tasks", r.tasks},
                   {"samples", r.samples}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (format != "text") throw Error("unknown format '" + format + "'", "--format", "text or json");
  if (runs.empty()) {
    std::printf("no runs in %s\n", s->where().c_str());
    return 0;
  }
  size_t mw = 5;
  for (const auto& r : runs) mw = std::max(mw, r.model.size());
  std::printf("%-22s %-16s  %-*s  %-11s %5s %8s  %s\n", "ID", "STARTED (UTC)", static_cast<int>(mw),
              "MODEL", "STATUS", "TASKS", "SAMPLES", "TIME");
  for (const auto& r : runs)
    std::printf("%-22s %-16s  %-*s  %-11s %5lld %8lld  %s\n", r.id.c_str(),
                utc_time(r.started).c_str(), static_cast<int>(mw), r.model.c_str(),
                r.status.c_str(), static_cast<long long>(r.tasks),
                static_cast<long long>(r.samples), format_hms(r.duration_s).c_str());
  return 0;
}

int runs_show(const Args& args) {
  CLI::App app{"Show one run: its configuration, scores and statistics.", "retort runs show"};
  std::string db, ref, format = "text";
  app.add_option("run", ref, "run id, unique prefix, latest or latest~N")->required();
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  app.add_option("--format", format, "text or json")->capture_default_str();
  int rc = 0;
  if (!parse_args(app, args, 2, rc)) return rc;
  auto s = store::ResultsStore::open(db_location(db));
  store::StoredRun r = s->load(s->resolve(ref), false);
  if (format == "json") {
    Json tasks = Json::array();
    for (const auto& t : r.tasks) {
      Json ms = Json::array();
      for (const auto& m : t.metrics)
        ms.push_back({{"metric", m.metric},
                      {"filter", m.filter},
                      {"value", m.value},
                      {"stderr", m.stderr_value ? Json(*m.stderr_value) : Json()},
                      {"n", m.n}});
      tasks.push_back({{"task", t.name},
                       {"kind", t.kind},
                       {"version", t.version},
                       {"eval_version", t.eval_version},
                       {"n_samples", t.n_samples},
                       {"n_failed", t.n_failed},
                       {"metrics", ms}});
    }
    Json j = {{"id", r.id},
              {"model", r.model},
              {"model_source", r.model_source},
              {"endpoint", r.endpoint},
              {"status", r.status},
              {"started", r.started},
              {"duration_s", r.duration_s},
              {"config", r.config},
              {"versions", r.versions},
              {"stats", r.stats},
              {"tasks", tasks}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("run:      %s (%s)\nmodel:    %s (%s)\nendpoint: %s\nstarted:  %s UTC, %s\n",
              r.id.c_str(), r.status.c_str(), r.model.c_str(), r.model_source.c_str(),
              r.endpoint.c_str(), utc_time(r.started).c_str(), format_hms(r.duration_s).c_str());
  std::printf(
      "\n| Task | Metric | Filter | n | Value | Stderr | Eval version |\n"
      "|------|--------|--------|--:|------:|-------:|--------------|\n");
  for (const auto& t : r.tasks)
    for (const auto& m : t.metrics) {
      std::string n = fmt::format("{}", m.n);
      if (t.n_failed > 0) n = fmt::format("{}/{} scored", m.n, t.n_samples);
      std::printf("| %s | %s | %s | %s | %.4f | %s | %s |\n", t.name.c_str(), m.metric.c_str(),
                  m.filter.c_str(), n.c_str(), m.value,
                  m.stderr_value ? fmt::format("{:.4f}", *m.stderr_value).c_str() : "N/A",
                  t.eval_version.c_str());
    }
  if (r.stats.is_object() && !r.stats.empty())
    std::printf("\n%s", format_stats_table(stats_from_json(r.stats), r.model).c_str());
  return 0;
}

int runs_rm(const Args& args) {
  CLI::App app{"Delete runs (and their tasks, metrics and samples).", "retort runs rm"};
  std::string db;
  std::vector<std::string> refs;
  app.add_option("runs", refs, "run ids or unique prefixes")->required();
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  int rc = 0;
  if (!parse_args(app, args, 2, rc)) return rc;
  auto s = store::ResultsStore::open(db_location(db));
  for (const auto& ref : refs) {
    std::string id = s->resolve(ref);
    s->remove(id);
    std::printf("removed run %s\n", id.c_str());
  }
  return 0;
}

}  // namespace

int cmd_runs(const Args& args) {
  const char* usage =
      "usage: retort runs list|show|rm [options]\n"
      "  list                 runs in the results database, newest first\n"
      "  show RUN             one run's configuration, scores and statistics\n"
      "  rm RUN...            delete runs\n"
      "  (--db PATH|URL on each; default $XDG_DATA_HOME/retort/runs.db)\n";
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::fputs(usage, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  if (args[1] == "list" || args[1] == "ls") return runs_list(args);
  if (args[1] == "show") return runs_show(args);
  if (args[1] == "rm" || args[1] == "remove") return runs_rm(args);
  throw Error("unknown subcommand '" + args[1] + "'", "retort runs", "use list, show or rm");
}

int cmd_leaderboard(const Args& args) {
  CLI::App app{"One row per model (its latest run of each task), the task's primary metric.",
               "retort leaderboard"};
  std::string db, format = "md";
  std::vector<std::string> tasks;
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  app.add_option("--tasks", tasks, "columns: task or group names (comma-separated)");
  app.add_option("--format", format, "md, csv or json")->capture_default_str();
  int rc = 0;
  if (!parse_args(app, args, 1, rc)) return rc;
  auto s = store::ResultsStore::open(db_location(db));
  auto board = store::build_leaderboard(*s, split_tasks(tasks));
  std::string text = store::format_leaderboard(board, format);
  std::fputs(text.c_str(), stdout);
  if (board.rows.empty()) std::fprintf(stderr, "no runs with scores in %s\n", s->where().c_str());
  return 0;
}

int cmd_compare(const Args& args) {
  CLI::App app{
      "Paired comparison of two runs: per task, B - A on the docs both asked with the same "
      "prompt, with its standard error, 95% interval and p-value.",
      "retort compare"};
  std::string db, ref_a, ref_b, format = "md";
  std::vector<std::string> tasks;
  bool all_metrics = false;
  int iters = 10000;
  app.add_option("A", ref_a, "run id (or prefix, latest, latest~N) or results file")->required();
  app.add_option("B", ref_b, "run id (or prefix, latest, latest~N) or results file")->required();
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  app.add_option("--tasks", tasks, "only these tasks or groups (comma-separated)");
  app.add_flag("--all-metrics", all_metrics, "every metric, not only each task's first");
  app.add_option("--bootstrap-iters", iters, "resamples for non-0/1 metrics")
      ->capture_default_str();
  app.add_option("--format", format, "md or json")->capture_default_str();
  int rc = 0;
  if (!parse_args(app, args, 1, rc)) return rc;
  if (format != "md" && format != "json")
    throw Error("unknown format '" + format + "'", "--format", "use md or json");
  store::StoredRun a = load_ref(ref_a, db, true, false);  // pairs by doc, prompt hash, metrics
  store::StoredRun b = load_ref(ref_b, db, true, false);
  store::CompareOptions o;
  o.tasks = split_tasks(tasks);
  o.all_metrics = all_metrics;
  o.bootstrap_iters = std::max(iters, 100);
  auto cmp = store::compare_runs(a, b, o);
  if (format == "json") {
    std::printf("%s\n", comparison_json(cmp, a, b).dump(2).c_str());
    return 0;
  }
  std::string out = run_line("A", a) + run_line("B", b) + "\n";
  out +=
      "| Task | Metric | n | A | B | B-A | 95% CI | p | Test |\n"
      "|------|--------|--:|--:|--:|----:|--------|--:|------|\n";
  std::string sentences, refused;
  for (const auto& t : cmp) {
    for (const auto& note : t.notes) refused += "note: " + t.task + ": " + note + "\n";
    if (t.refused) {
      out += fmt::format("| {} | — | — | — | — | — | — | — | refused |\n", t.task);
      refused += "refused: " + t.task + ": " + t.reason + "\n";
      continue;
    }
    for (const auto& m : t.metrics) {
      const auto& s = m.stats;
      double k = scale(m);
      out += fmt::format(
          "| {} | {},{} | {} | {:.1f} | {:.1f} | {:+.1f} | [{:+.1f}, {:+.1f}] | {} | "
          "{} |\n",
          t.task, m.metric, m.filter, s.n, s.mean_a * k, s.mean_b * k, s.diff * k, s.ci_low * k,
          s.ci_high * k, fmt_p(s.p_value), test_name(s.method));
      sentences += t.task + ": " + m.sentence + "\n";
    }
  }
  out += "\n" + sentences;
  if (!refused.empty()) out += "\n" + refused;
  std::fputs(out.c_str(), stdout);
  return 0;
}

int report_runs(const std::vector<std::string>& refs, const std::string& db, const std::string& out,
                size_t max_samples) {
  std::vector<store::StoredRun> runs;
  for (const auto& ref : refs) runs.push_back(load_ref(ref, db, true));
  std::vector<std::vector<store::TaskComparison>> vs_first;
  for (size_t i = 1; i < runs.size(); ++i)
    vs_first.push_back(store::compare_runs(runs[0], runs[i], {}));
  write_file_atomic(out, store::render_runs_html(runs, vs_first, std::max<size_t>(max_samples, 1)));
  for (size_t i = 0; i < runs.size(); ++i)
    std::printf("%s %s  %s\n", i == 0 ? "A:" : "B:", runs[i].id.c_str(), runs[i].model.c_str());
  // What the page notes (evaluation versions that differ, ...) is said here too.
  for (size_t i = 0; i < vs_first.size(); ++i)
    for (const auto& t : vs_first[i])
      for (const auto& note : t.notes)
        std::printf("note: %s vs %s: %s: %s\n", runs[0].id.c_str(), runs[i + 1].id.c_str(),
                    t.task.c_str(), note.c_str());
  std::printf("HTML report: %s\n", fs::absolute(out).lexically_normal().string().c_str());
  return 0;
}

int cmd_gate(const Args& args) {
  CLI::App app{
      "Regression gate for CI: exit 1 when a task's primary metric dropped significantly "
      "(p < 0.05) and by more than --max-drop.",
      "retort gate"};
  std::string db, base_ref, cand_ref, max_drop_text = "1pt";
  std::vector<std::string> tasks;
  app.add_option("--baseline", base_ref, "run id or results file")->required();
  app.add_option("--candidate", cand_ref, "run id or results file")->required();
  app.add_option("--max-drop", max_drop_text,
                 "allowed drop: 1pt (points, absolute) or 1% (relative to the baseline)")
      ->capture_default_str();
  app.add_option("--tasks", tasks, "only these tasks or groups (comma-separated)");
  app.add_option("--db", db, "results database (file or postgresql:// URL)");
  int rc = 0;
  if (!parse_args(app, args, 1, rc)) return rc;
  std::smatch mm;
  static const std::regex drop_re(R"(^\s*([0-9]*\.?[0-9]+)\s*(%|pt|pts|points)?\s*$)");
  if (!std::regex_match(max_drop_text, mm, drop_re))
    throw Error("'" + max_drop_text + "' is not a drop bound", "--max-drop",
                "e.g. --max-drop 1pt (one point absolute) or --max-drop 2% (relative)");
  const double bound = std::stod(mm[1].str());
  const bool relative = mm[2].str() == "%";
  store::StoredRun a = load_ref(base_ref, db, true, false);
  store::StoredRun b = load_ref(cand_ref, db, true, false);
  store::CompareOptions o;
  o.tasks = split_tasks(tasks);
  auto cmp = store::compare_runs(a, b, o);
  std::string out = run_line("baseline ", a) + run_line("candidate", b);
  out += fmt::format("max drop: {}{}\n\n", bound, relative ? "% of the baseline" : " points");
  out +=
      "| Task | Metric | n | Base | Cand | Drop | 95% CI | p | Verdict |\n"
      "|------|--------|--:|-----:|-----:|-----:|--------|--:|---------|\n";
  int failed = 0, refused = 0;
  std::string reasons;
  for (const auto& t : cmp) {
    if (t.refused) {
      ++refused;
      out += fmt::format("| {} | — | — | — | — | — | — | — | cannot compare |\n", t.task);
      reasons += "cannot compare " + t.task + ": " + t.reason + "\n";
      continue;
    }
    const auto& m = t.metrics.front();
    const auto& s = m.stats;
    const double k = scale(m);
    // Drop in the metric's direction: positive = worse.
    double drop = m.higher_is_better ? -s.diff : s.diff;
    double lo = m.higher_is_better ? -s.ci_high : s.ci_low;
    double hi = m.higher_is_better ? -s.ci_low : s.ci_high;
    double allowed = relative ? bound / 100.0 * std::fabs(s.mean_a) : bound / k;
    bool significant = s.p_value < 0.05 && lo > 0;
    bool fail = significant && drop > allowed;
    if (fail) ++failed;
    const char* verdict = fail ? "FAIL" : drop > allowed ? "ok (within noise)" : "ok";
    out += fmt::format(
        "| {} | {},{} | {} | {:.1f} | {:.1f} | {:+.1f} | [{:+.1f}, {:+.1f}] | {} | "
        "{} |\n",
        t.task, m.metric, m.filter, s.n, s.mean_a * k, s.mean_b * k, drop * k, lo * k, hi * k,
        fmt_p(s.p_value), verdict);
  }
  out += "\n" + reasons;
  if (failed)
    out += fmt::format("FAIL: {} of {} task(s) dropped significantly by more than {}\n", failed,
                       cmp.size(), max_drop_text);
  else if (refused)
    out += fmt::format("cannot decide: {} task(s) could not be compared\n", refused);
  else
    out += "PASS: no significant drop beyond " + max_drop_text + "\n";
  std::fputs(out.c_str(), stdout);
  if (failed) return 1;
  return refused ? 2 : 0;
}

}  // namespace retort::cli
