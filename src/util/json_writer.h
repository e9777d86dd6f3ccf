// A streaming JSON writer for hot paths (request bodies, cache keys): appends compact JSON
// to a string without building a DOM. Its bytes are exactly what nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) prints for the same values, so text it
// writes can stand in for a dumped Json (cache keys stay the same).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace retort {

// Appends s as a JSON string literal (quotes included), escaped as nlohmann's dump does
// with ensure_ascii=false; invalid UTF-8 is replaced the way error_handler_t::replace does.
void append_json_string(std::string& out, std::string_view s);
// Appends v as compact JSON, the bytes nlohmann's dump(-1, ' ', false, replace) prints,
// without its per-call serializer setup (floats still go through nlohmann).
void append_json(std::string& out, const Json& v);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // The next value is this member's.
  void key(std::string_view k) {
    comma();
    append_json_string(out_, k);
    out_ += ':';
    after_key_ = true;
  }
  void value(std::string_view s) {
    comma();
    append_json_string(out_, s);
  }
  void value(const char* s) { value(std::string_view(s)); }
  void value(int64_t v);
  void value(int v) { value(static_cast<int64_t>(v)); }
  void value(bool v) {
    comma();
    out_ += v ? "true" : "false";
  }
  void json(const Json& v);  // any JSON value
  // Text that already is one JSON value.
  void raw(std::string_view json) {
    comma();
    out_ += json;
  }

 private:
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void open(char c) {
    comma();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    out_ += c;
    first_.pop_back();
  }

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace retort
