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

}  // namespace retort::cli
