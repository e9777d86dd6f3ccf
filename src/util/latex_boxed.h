// lm-eval's hendrycks_math/utils.py last_boxed_only_string + remove_boxed, shared by the
// hendrycks_math doc processor (tasks/) and the string-rule scorer (scoring/).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace retort {

// remove_boxed(last_boxed_only_string(s)): when "\boxed " (with a space) occurs, the text
// after its last occurrence up to the first '$'; else the inside of the last "\boxed{...}"
// (brace counting). nullopt where Python fails: no \boxed, unbalanced braces, or a last
// box that is an \fbox (remove_boxed's assertion).
std::optional<std::string> hendrycks_boxed_answer(std::string_view s);

}  // namespace retort
