#include "util/py_regex.h"

#include <stdexcept>

namespace retort {

struct PyRegex::Impl {};

PyRegex::~PyRegex() = default;

std::shared_ptr<const PyRegex> PyRegex::compile(const std::string&, int) {
  throw std::logic_error("py_regex: not implemented yet");
}
std::optional<PyMatch> PyRegex::run(std::string_view, size_t, uint32_t) const {
  return {};
}
std::optional<PyMatch> PyRegex::search(std::string_view, size_t) const {
  return {};
}
std::optional<PyMatch> PyRegex::match(std::string_view, size_t) const {
  return {};
}
std::optional<PyMatch> PyRegex::fullmatch(std::string_view) const {
  return {};
}
std::vector<PyMatch> PyRegex::finditer(std::string_view) const {
  return {};
}
Json PyRegex::findall(std::string_view) const {
  return Json::array();
}
std::string PyRegex::sub(std::string_view, std::string_view s, int64_t) const {
  return std::string(s);
}
std::vector<std::optional<std::string>> PyRegex::split(std::string_view, int64_t) const {
  return {};
}
std::optional<PyMatch> py_re_search(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->search(s);
}
std::optional<PyMatch> py_re_fullmatch(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->fullmatch(s);
}
Json py_re_findall(const std::string& p, std::string_view s, int f) {
  return PyRegex::compile(p, f)->findall(s);
}
std::string py_re_sub(const std::string& p, std::string_view r, std::string_view s, int64_t c,
                      int f) {
  return PyRegex::compile(p, f)->sub(r, s, c);
}
std::vector<std::optional<std::string>> py_re_split(const std::string& p, std::string_view s,
                                                    int64_t m, int f) {
  return PyRegex::compile(p, f)->split(s, m);
}
std::string py_re_escape(std::string_view s) {
  return std::string(s);
}

}  // namespace retort
