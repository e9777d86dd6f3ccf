// The process-wide logger (the one piece of global mutable state we allow). Writes to
// stderr. Every line passes through secret redaction: strings registered with
// add_secret() (API keys, tokens) are replaced by "***" so they never reach a log.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace retort::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

void set_level(Level level);
Level level();

// Registers a secret to be masked in every log line and in redact(). Empty or very short
// strings (< 4 chars) are ignored so that masking cannot mangle ordinary text.
void add_secret(std::string_view secret);
// Returns text with every registered secret replaced by "***", and the user:password part
// of any URL ("http://u:p@host") replaced by "***".
std::string redact(std::string_view text);
// The same, in place (no copy when nothing is masked).
void redact_in_place(std::string& text);

void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kError) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace retort::log
