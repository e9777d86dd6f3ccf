#include "util/error.h"

namespace retort {

namespace {
std::string compose(const std::string& what, const std::string& where) {
  return where.empty() ? what : where + ": " + what;
}
}  // namespace

Error::Error(std::string what, std::string where, std::string hint)
    : std::runtime_error(compose(what, where)),
      what_(std::move(what)),
      where_(std::move(where)),
      hint_(std::move(hint)) {}

std::string Error::message() const {
  std::string out = "error: " + compose(what_, where_);
  if (!hint_.empty()) out += "\n  hint: " + hint_;
  return out;
}

}  // namespace retort
