// `retort report RESULTS.json [--out report.html]`: print a finished run's score and
// statistics tables again and (re-)render its HTML report from the files it left behind.
// `retort report RUN... [-o report.html]`: runs of the results database (or results files)
// side by side, with paired differences (cli/cmd_store.cc).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "report/report.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort::cli {

int cmd_report(const Args& args) {
  CLI::App app{
      "Print the score and statistics tables of a results file and write its HTML report.\n"
      "The samples_<task>_<date>.jsonl files beside it (from --log_samples) fill the sample "
      "browser.",
      "retort report"};
  std::vector<std::string> inputs;
  std::string results_path, out, db;
  size_t max_samples = 0;  // 0: 50 for a results file, 2000 for runs
  bool no_html = false;
  app.add_option("results", inputs,
                 "results JSON written by `retort run` (or lm_eval); or one or more runs of "
                 "the results database (id, prefix, latest, latest~N) for a side-by-side report")
      ->required();
  app.add_option("--db", db, "results database for run ids (file or postgresql:// URL)");
  app.add_option("--out,-o", out, "HTML file to write (default: report_<date>.html beside it)");
  app.add_option("--max-samples", max_samples,
                 "samples per task in the HTML sample browser (default 50 for a results file, "
                 "2000 per run for runs)");
  app.add_flag("--no-html", no_html, "only print the tables");
  std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (inputs.size() != 1 || !db.empty() || !std::filesystem::is_regular_file(inputs[0]))
    return report_runs(inputs, db, out.empty() ? "report.html" : out,
                       max_samples ? max_samples : 2000);
  results_path = inputs[0];
  LoadedResults loaded = load_results(results_path);
  std::string table = format_score_table(loaded.results, "results");
  if (loaded.results.contains("groups")) {
    table += "\n" + format_score_table(loaded.results, "groups");
  }
  std::fputs(table.c_str(), stdout);
  if (loaded.results.contains("retort") && loaded.results["retort"].contains("stats")) {
    std::string model = loaded.results.value("model_name", std::string());
    std::fputs(
        ("\n" + format_stats_table(stats_from_json(loaded.results["retort"]["stats"]), model))
            .c_str(),
        stdout);
  }
  if (no_html) return 0;
  if (out.empty()) out = default_html_path(results_path);
  write_file_atomic(out,
                    render_html(loaded.results, loaded.samples, max_samples ? max_samples : 50));
  std::printf("\nHTML report: %s\n",
              std::filesystem::absolute(out).lexically_normal().string().c_str());
  if (!loaded.samples_files.empty()) {
    std::printf("samples from: %zu file%s\n", loaded.samples_files.size(),
                loaded.samples_files.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace retort::cli
