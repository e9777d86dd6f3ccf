#include "util/pyvalue.h"

#include "util/error.h"

namespace retort {

namespace {
[[noreturn]] void todo() {
  throw Error("pyvalue: not implemented yet");
}
}  // namespace

std::string py_str(const Json&) {
  todo();
}
std::string py_repr(const Json&) {
  todo();
}
std::string py_float_repr(double) {
  todo();
}
std::string py_str_repr(std::string_view) {
  todo();
}
std::string py_json_dumps(const Json&, int, bool, bool) {
  todo();
}
Json py_literal_eval(std::string_view) {
  todo();
}
bool py_truthy(const Json&) {
  todo();
}
bool py_isdigit(std::string_view) {
  todo();
}
bool py_isspace(char32_t) {
  todo();
}
std::string py_strip(std::string_view) {
  todo();
}
std::string py_lstrip(std::string_view) {
  todo();
}
std::string py_rstrip(std::string_view) {
  todo();
}
size_t py_len(std::string_view) {
  todo();
}
char32_t decode_utf8(std::string_view, size_t&) {
  todo();
}
void append_utf8(std::string&, char32_t) {
  todo();
}

}  // namespace retort
