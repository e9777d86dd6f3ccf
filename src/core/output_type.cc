#include "core/output_type.h"

#include <fmt/format.h>

#include "util/error.h"

namespace retort {

const char* output_type_name(OutputType t) {
  switch (t) {
    case OutputType::kGenerateUntil:
      return "generate_until";
    case OutputType::kMultipleChoice:
      return "multiple_choice";
    case OutputType::kLoglikelihood:
      return "loglikelihood";
    case OutputType::kLoglikelihoodRolling:
      return "loglikelihood_rolling";
  }
  return "?";
}

OutputType parse_output_type(const std::string& s, const std::string& where) {
  if (s == "generate_until") return OutputType::kGenerateUntil;
  if (s == "multiple_choice") return OutputType::kMultipleChoice;
  if (s == "loglikelihood") return OutputType::kLoglikelihood;
  if (s == "loglikelihood_rolling") return OutputType::kLoglikelihoodRolling;
  throw Error(fmt::format("unknown output_type '{}'", s), where,
              "use generate_until, multiple_choice, loglikelihood or loglikelihood_rolling");
}

}  // namespace retort
