// The four request shapes a task can ask for, as lm-eval names them. Part of the shared
// vocabulary: tasks parse it, the prompt builder plans by it, scoring picks metrics by it
// and report/ writes its name.
#pragma once

#include <string>

namespace retort {

enum class OutputType { kGenerateUntil, kMultipleChoice, kLoglikelihood, kLoglikelihoodRolling };

// "generate_until" | "multiple_choice" | "loglikelihood" | "loglikelihood_rolling"; anything
// else throws retort::Error naming `where`.
OutputType parse_output_type(const std::string& s, const std::string& where);
// The lm-eval spelling of an output type ("generate_until", "multiple_choice", ...).
const char* output_type_name(OutputType type);

}  // namespace retort
