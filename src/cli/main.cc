// Entry point: dispatches to a subcommand and turns a retort::Error into one clear message.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "util/error.h"
#include "util/log.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(const retort::cli::Args&);
  const char* help;
};

const Command kCommands[] = {
    {"run", retort::cli::cmd_run, "evaluate a model on tasks (alias: eval)"},
    {"eval", retort::cli::cmd_run, nullptr},
    {"sim", retort::cli::cmd_sim, "start an OpenAI-compatible simulator server"},
    {"models", retort::cli::cmd_models, "list the models a server serves"},
    {"cache", retort::cli::cmd_cache, "inspect or clear the response cache"},
    {"tasks", retort::cli::cmd_tasks, "list and show tasks"},
    {"data", retort::cli::cmd_data, "look at a dataset (dump rows, info)"},
    {"report", retort::cli::cmd_report, "render a report from a results file"},
    {"score", retort::cli::cmd_score, "re-score answers from a JSON Lines file (score math)"},
    {"runs", retort::cli::cmd_runs, "list, show or remove recorded runs"},
    {"leaderboard", retort::cli::cmd_leaderboard, "models x tasks from recorded runs"},
    {"compare", retort::cli::cmd_compare, "paired comparison of two runs, with error bars"},
    {"gate", retort::cli::cmd_gate, "fail (exit 1) when a candidate run regressed"},
    {"rescore", retort::cli::cmd_rescore,
     "score a recorded run again from its stored responses (no server)"},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: retort <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) {
    if (c.help) std::fprintf(out, "  %-12s %s\n", c.name, c.help);
  }
  std::fprintf(out, "\nrun 'retort <command> --help' for a command's options\n");
}

}  // namespace

// jemalloc's options, read from this symbol at start-up when the binary links jemalloc
// (CMakeLists.txt; unused with glibc's malloc); MALLOC_CONF in the environment still
// overrides them. Transparent huge pages for its memory: a whole run grows by ~4 KiB per
// request, and on an idle VM zeroing each fresh 4 KiB page was a third of the run's CPU;
// with 2 MiB pages faults drop ~9x and the run takes ~30% less CPU (bench/README.md).
extern "C" {
__attribute__((used, visibility("default"))) const char* malloc_conf =
    "thp:always,metadata_thp:always";
}

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("retort 0.1.0\n");
    return 0;
  }
  retort::cli::Args args(argv + 1, argv + argc);
  for (const auto& c : kCommands) {
    if (args[0] != c.name) continue;
    try {
      return c.fn(args);
    } catch (const retort::Error& e) {
      std::fprintf(stderr, "%s\n", retort::log::redact(e.message()).c_str());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", retort::log::redact(e.what()).c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
