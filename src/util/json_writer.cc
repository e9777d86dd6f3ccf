#include "util/json_writer.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "util/strings.h"

namespace retort {

namespace {

// Appends s quoted and escaped as nlohmann does; false when s is not valid UTF-8 (the caller
// then lets the library apply its replacement rules). Eight bytes at a time where it can.
bool escape_valid_utf8(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* end = p + s.size();
  bool ascii_only = true;
  out += '"';
  const char* run = p;
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  for (; p < end; ++p) {
    // Eight bytes at a time while none needs escaping (no control byte, quote or backslash).
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      uint64_t ctrl = (w - kOnes * 0x20) & ~w & kHigh;
      uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
      uint64_t special = ctrl | ((q - kOnes) & ~q & kHigh) | ((b - kOnes) & ~b & kHigh);
      if (special) break;
      ascii_only &= (w & kHigh) == 0;
      p += 8;
    }
    if (p >= end) break;
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ascii_only &= c < 0x80;
      continue;
    }
    out.append(run, static_cast<size_t>(p - run));
    run = p + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(run, static_cast<size_t>(end - run));
  out += '"';
  return ascii_only || is_valid_utf8(s);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  size_t mark = out.size();
  if (!escape_valid_utf8(out, s)) {
    // Invalid UTF-8: let nlohmann write the whole string, replacement characters and all.
    out.resize(mark);
    out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

void append_json(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, it.key());
        out += ':';
        append_json(out, *it);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        append_json(out, e);
      }
      out += ']';
      return;
    }
    case Json::value_t::string: {
      append_json_string(out, v.get_ref<const std::string&>());
      return;
    }
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get<int64_t>());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get<uint64_t>());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case Json::value_t::null:
      out += "null";
      return;
    default:  // floats (nlohmann's shortest round-trip format), binary, discarded
      out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

void JsonWriter::value(int64_t v) {
  comma();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void JsonWriter::json(const Json& v) {
  comma();
  append_json(out_, v);
}

}  // namespace retort
