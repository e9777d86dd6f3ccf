// A cheap pre-check beside log.h's redaction (kept apart so that the many files including
// log.h do not depend on it): for callers that store much text and want to skip redact()'s
// copy when it could not change anything.
#pragma once

#include <string_view>

namespace retort::log {

// False when redact() would certainly return text unchanged (no registered secret in it and
// no "://" that could carry user:password).
bool may_need_redaction(std::string_view text);

}  // namespace retort::log
