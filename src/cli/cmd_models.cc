#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_models(const Args&) {
  throw Error("'retort models' is not implemented yet");
}

}  // namespace retort::cli
