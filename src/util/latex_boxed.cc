#include "util/latex_boxed.h"

namespace retort {

std::optional<std::string> hendrycks_boxed_answer(std::string_view s) {
  // if "\boxed " in string: return "\boxed " + string.split("\boxed ")[-1].split("$")[0]
  if (s.find("\\boxed ") != std::string_view::npos) {
    std::string_view last = s.substr(s.rfind("\\boxed ") + 7);
    return std::string(last.substr(0, last.find('$')));
  }
  size_t idx = s.rfind("\\boxed");
  if (idx == std::string_view::npos) return std::nullopt;  // an \fbox fails remove_boxed
  int depth = 0;
  for (size_t i = idx; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) {
      std::string_view boxed = s.substr(idx, i + 1 - idx);
      if (boxed.substr(0, 7) != "\\boxed{") return std::nullopt;
      return std::string(boxed.substr(7, boxed.size() - 8));
    }
  }
  return std::nullopt;
}

}  // namespace retort
