#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_data(const Args&) {
  throw Error("'retort data' is not implemented yet");
}

}  // namespace retort::cli
