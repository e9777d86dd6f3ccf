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

#include <string_view>

#include "util/json.h"

namespace retort {

bool parse_json_fast(std::string_view text, Json& out);

}  // namespace retort
