#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_cache(const Args&) {
  throw Error("'retort cache' is not implemented yet");
}

}  // namespace retort::cli
