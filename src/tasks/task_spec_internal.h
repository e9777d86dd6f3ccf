// Internal: building a TaskSpec from a parsed (include-resolved) YAML config.
#pragma once

#include "tasks/tasks.h"
#include "tasks/yaml_config.h"

namespace retort::tasks_internal {

// Validates and types the keys of one task config. Throws retort::Error naming file:line.
TaskSpec task_from_config(const YamlConfig& cfg);

// Built-in doc processors defined outside task_spec.cc (listed in its kBuiltins).
std::vector<Doc> hendrycks_math_process_docs(std::vector<Doc> docs);    // math_docs.cc
std::vector<Doc> minerva_math_process_docs(std::vector<Doc> docs);      // math_docs.cc
Json minerva_math_doc_to_text(const Doc& doc);                          // math_docs.cc
Json minerva_math_fewshot_samples(const Doc& doc);                      // math_docs.cc
std::vector<Doc> leaderboard_math_process_docs(std::vector<Doc> docs);  // math_docs.cc
Json leaderboard_math_fewshot_samples(const Doc& doc);                  // math_docs.cc

}  // namespace retort::tasks_internal
