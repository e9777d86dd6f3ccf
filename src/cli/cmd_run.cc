#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_run(const Args&) {
  throw Error("'retort run' is not implemented yet");
}

}  // namespace retort::cli
