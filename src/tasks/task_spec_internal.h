// Internal: building a TaskSpec from a parsed (include-resolved) YAML config.
#pragma once

#include "tasks/tasks.h"
#include "tasks/yaml_config.h"

namespace retort::tasks_internal {

// Validates and types the keys of one task config. Throws retort::Error naming file:line.
TaskSpec task_from_config(const YamlConfig& cfg);

}  // namespace retort::tasks_internal
