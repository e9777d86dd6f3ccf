// retort::Error is the one exception type for problems a user can cause (flags, task files,
// datasets, server replies). It carries what failed, where (file:line, field, URL) and
// what to do, and is caught once at the command boundary and printed as one or two lines.
// A failed HTTP request is not an Error: it is data inside its Response.
#pragma once

#include <stdexcept>
#include <string>

namespace retort {

class Error : public std::runtime_error {
 public:
  // what: what failed. where: file:line / field / URL (may be empty). hint: what to do.
  explicit Error(std::string what, std::string where = "", std::string hint = "");

  const std::string& what_failed() const { return what_; }
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }

  // "error: <where>: <what>" and, when there is a hint, "\n  hint: <hint>".
  std::string message() const;

 private:
  std::string what_;
  std::string where_;
  std::string hint_;
};

}  // namespace retort
