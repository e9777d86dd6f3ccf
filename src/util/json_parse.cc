#include "util/json_parse.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "util/json_scan.h"

namespace retort {

namespace {

// Deeper documents go to nlohmann (whose parser does not recurse) rather than risk the stack.
constexpr int kMaxDepth = 256;

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

class DomReader {
 public:
  explicit DomReader(std::string_view text) : js_(text) {}

  // Reads one value into `out` (replacing what it held, as nlohmann's DOM builder replaces
  // a duplicate key's earlier value).
  bool value(Json& out, int depth) {
    switch (js_.peek()) {
      case JsonScanner::Type::kObject: {
        if (depth >= kMaxDepth || !js_.enter_object()) return false;
        out = Json::object();
        auto& members = out.get_ref<Json::object_t&>();
        while (js_.next_key(key_)) {
          // ordered_map::operator[]: the first position of a key, default-made when new.
          Json& slot = members[key_];
          if (!value(slot, depth + 1)) return false;
        }
        return js_.ok();
      }
      case JsonScanner::Type::kArray: {
        if (depth >= kMaxDepth || !js_.enter_array()) return false;
        out = Json::array();
        auto& elements = out.get_ref<Json::array_t&>();
        while (js_.next_element()) {
          elements.emplace_back();
          if (!value(elements.back(), depth + 1)) return false;
        }
        return js_.ok();
      }
      case JsonScanner::Type::kString: {
        std::string s;
        if (!js_.read_string(s)) return false;
        out = std::move(s);
        return true;
      }
      case JsonScanner::Type::kNumber: {
        std::string_view token;
        return js_.read_number_token(token) && read_number(token, out);
      }
      case JsonScanner::Type::kTrue:
        out = true;
        return js_.skip_value();
      case JsonScanner::Type::kFalse:
        out = false;
        return js_.skip_value();
      case JsonScanner::Type::kNull:
        out = nullptr;
        return js_.skip_value();
      default:
        return false;
    }
  }

  bool finish() { return js_.finish(); }

 private:
  JsonScanner js_;
  std::string key_;
};

}  // namespace

bool parse_json_fast(std::string_view text, Json& out) {
  DomReader reader(text);
  Json v;
  if (!reader.value(v, 0) || !reader.finish()) return false;
  out = std::move(v);
  return true;
}

}  // namespace retort
