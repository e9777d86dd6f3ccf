#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_sim(const Args&) {
  throw Error("'retort sim' is not implemented yet");
}

}  // namespace retort::cli
