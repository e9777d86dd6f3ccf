// The subcommands of the `retort` binary. Each takes the arguments after its name
// (argv[0] is the subcommand name) and returns the process exit code. retort::Error
// escaping a command is printed once by main().
#pragma once

#include <string>
#include <vector>

namespace retort::cli {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);     // run / eval: evaluate tasks against a model
int cmd_sim(const Args& args);     // OpenAI-compatible simulator server
int cmd_models(const Args& args);  // list what a server serves
int cmd_cache(const Args& args);   // cache stats | clear
int cmd_tasks(const Args& args);   // list / show tasks
int cmd_data(const Args& args);    // data dump | info
int cmd_report(const Args& args);  // render a report from a results file
int cmd_score(const Args& args);   // re-score answers from a file (score math)

// The results database (cli/cmd_store.cc).
int cmd_runs(const Args& args);         // runs list | show | rm
int cmd_leaderboard(const Args& args);  // models x tasks
int cmd_compare(const Args& args);      // paired comparison of two runs
int cmd_gate(const Args& args);         // regression gate (exit 1 on a significant drop)
int cmd_rescore(const Args& args);      // score a recorded run again from its stored responses
// `retort report RUN...`: the side-by-side HTML report of stored runs or results files.
int report_runs(const std::vector<std::string>& refs, const std::string& db, const std::string& out,
                size_t max_samples);

}  // namespace retort::cli
