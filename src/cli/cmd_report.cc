#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_report(const Args&) {
  throw Error("'retort report' is not implemented yet");
}

}  // namespace retort::cli
