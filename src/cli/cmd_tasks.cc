#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_tasks(const Args&) {
  throw Error("'retort tasks' is not implemented yet");
}

}  // namespace retort::cli
