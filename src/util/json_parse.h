// A faster reader of whole JSON documents into a Json DOM, for dataset rows (JSON Lines,
// JSON arrays): it builds the values straight from JsonScanner's tokens instead of going
// through nlohmann's character-by-character lexer and SAX DOM builder.
//
// The promise: when parse_json_fast returns true, `out` equals Json::parse(text) in value,
// in every value's type (number_unsigned / number_integer / number_float) and in member
// order (a duplicate key keeps its first position and takes the last value, as nlohmann's
// DOM parser does). On anything it does not reproduce exactly (malformed text, numbers
// that overflow or underflow a double, nesting deeper than it recurses) it returns false
// and leaves `out` alone: the caller then calls Json::parse, which gives the value or the
// error message it always gave.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json.h"

namespace retort {

class JsonScanner;

// Keeps its scratch buffers from one document to the next: use one for all the rows of a
// file. Each container is collected in scratch and then moved into a vector of its exact
// size (instead of growing one member at a time); each string is decoded in scratch and then
// copied once.
class FastJsonParser {
 public:
  bool parse(std::string_view text, Json& out);

 private:
  bool value(JsonScanner& js, Json& out, size_t depth);

  std::string key_, str_;
  std::vector<std::vector<std::pair<std::string, Json>>> members_;  // per nesting depth
  std::vector<std::vector<Json>> elements_;                         // per nesting depth
};

// One document with a parser of its own.
bool parse_json_fast(std::string_view text, Json& out);

}  // namespace retort
