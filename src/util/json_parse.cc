#include "util/json_parse.h"

#include <charconv>
#include <cstdint>
#include <iterator>

#include "util/json_scan.h"

namespace retort {

namespace {

// Deeper documents go to nlohmann (whose parser does not recurse) rather than risk the stack.
constexpr size_t kMaxDepth = 256;

// nlohmann's lexer (detail/input/lexer.hpp, scan_number in 3.11): a token without fraction
// or exponent is number_unsigned when it has no sign and fits uint64, number_integer when
// it is negative and fits int64, and otherwise a double (strtod of the token), as is every
// token with '.', 'e' or 'E'.
bool read_number(std::string_view t, Json& out) {
  const char* b = t.data();
  const char* e = b + t.size();
  if (t.find_first_of(".eE") == std::string_view::npos) {
    if (t[0] == '-') {
      int64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out = static_cast<Json::number_integer_t>(v);
        return true;
      }
    } else {
      uint64_t v = 0;
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out = static_cast<Json::number_unsigned_t>(v);
        return true;
      }
    }
  }
  // from_chars rounds as strtod does (both correctly). Out of range (an underflow: the
  // scanner refused overflows) is left to nlohmann's strtod.
  double d = 0;
  auto r = std::from_chars(b, e, d);
  if (r.ec != std::errc() || r.ptr != e) return false;
  out = static_cast<Json::number_float_t>(d);
  return true;
}

}  // namespace

// Reads one value into `out`. The scratch vectors of this depth are indexed afresh after
// every nested read: reading deeper may grow the outer vectors (moving the inner ones,
// though not their elements).
bool FastJsonParser::value(JsonScanner& js, Json& out, size_t depth) {
  switch (js.peek()) {
    case JsonScanner::Type::kObject: {
      if (depth >= kMaxDepth || !js.enter_object()) return false;
      if (members_.size() <= depth) members_.resize(depth + 1);
      members_[depth].clear();
      while (js.next_key(key_)) {
        // nlohmann's DOM builder sets a member with ordered_map::operator[]: a repeated key
        // keeps its first position and its value is replaced (not merged) by the later one.
        auto& members = members_[depth];
        Json* slot = nullptr;
        for (auto& m : members) {
          if (m.first == key_) {
            slot = &m.second;
            break;
          }
        }
        if (!slot) slot = &members.emplace_back(key_, Json()).second;
        if (!value(js, *slot, depth + 1)) return false;
      }
      if (!js.ok()) return false;
      auto& members = members_[depth];
      Json obj = Json::object();
      auto& dst = obj.get_ref<Json::object_t&>();
      dst.reserve(members.size());
      for (auto& m : members) dst.emplace_back(std::move(m.first), std::move(m.second));
      members.clear();
      out = std::move(obj);
      return true;
    }
    case JsonScanner::Type::kArray: {
      if (depth >= kMaxDepth || !js.enter_array()) return false;
      if (elements_.size() <= depth) elements_.resize(depth + 1);
      elements_[depth].clear();
      while (js.next_element()) {
        Json& slot = elements_[depth].emplace_back();
        if (!value(js, slot, depth + 1)) return false;
      }
      if (!js.ok()) return false;
      auto& elements = elements_[depth];
      Json arr = Json::array();
      arr.get_ref<Json::array_t&>().assign(std::make_move_iterator(elements.begin()),
                                           std::make_move_iterator(elements.end()));
      elements.clear();
      out = std::move(arr);
      return true;
    }
    case JsonScanner::Type::kString:
      if (!js.read_string(str_)) return false;
      out = str_;
      return true;
    case JsonScanner::Type::kNumber: {
      std::string_view token;
      return js.read_number_token(token) && read_number(token, out);
    }
    case JsonScanner::Type::kTrue:
      out = true;
      return js.skip_value();
    case JsonScanner::Type::kFalse:
      out = false;
      return js.skip_value();
    case JsonScanner::Type::kNull:
      out = nullptr;
      return js.skip_value();
    default:
      return false;
  }
}

bool FastJsonParser::parse(std::string_view text, Json& out) {
  JsonScanner js(text);
  Json v;
  if (!value(js, v, 0) || !js.finish()) return false;
  out = std::move(v);
  return true;
}

bool parse_json_fast(std::string_view text, Json& out) {
  FastJsonParser parser;
  return parser.parse(text, out);
}

}  // namespace retort
