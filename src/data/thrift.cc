#include "data/thrift.h"

#include <cstring>

#include "util/error.h"

namespace retort {

namespace {
constexpr int kMaxDepth = 60;
}

void ThriftReader::fail(const std::string& what) const {
  throw Error("corrupt parquet metadata: " + what + " (at byte " + std::to_string(position()) +
                  " of the thrift structure)",
              where_);
}

uint8_t ThriftReader::read_u8() {
  if (p_ >= end_) fail("unexpected end");
  return *p_++;
}

uint64_t ThriftReader::read_varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = read_u8();
    v |= uint64_t{b & 0x7Fu} << shift;
    if (!(b & 0x80)) return v;
  }
  fail("varint too long");
}

int32_t ThriftReader::read_i32() {
  uint64_t u = read_varint();
  return static_cast<int32_t>(static_cast<uint32_t>(u >> 1) ^ -static_cast<uint32_t>(u & 1));
}

int64_t ThriftReader::read_i64() {
  uint64_t u = read_varint();
  return static_cast<int64_t>((u >> 1) ^ -(u & 1));
}

int8_t ThriftReader::read_byte() {
  return static_cast<int8_t>(read_u8());
}

double ThriftReader::read_double() {
  if (end_ - p_ < 8) fail("unexpected end");
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

std::string_view ThriftReader::read_binary() {
  uint64_t n = read_varint();
  if (n > static_cast<uint64_t>(end_ - p_)) fail("string longer than the data left");
  std::string_view s(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return s;
}

void ThriftReader::begin_struct() {
  if (++depth_ >= kMaxDepth) fail("structures nested too deeply");
  last_id_[depth_] = 0;
}

void ThriftReader::end_struct() {
  --depth_;
}

bool ThriftReader::next_field(int16_t& id, ThriftType& type) {
  uint8_t b = read_u8();
  if (b == 0) return false;
  uint8_t t = b & 0x0F;
  if (t > 12) fail("unknown field type " + std::to_string(t));
  type = static_cast<ThriftType>(t);
  uint8_t delta = b >> 4;
  if (delta) {
    id = static_cast<int16_t>(last_id_[depth_] + delta);
  } else {
    id = static_cast<int16_t>(read_i32());
  }
  last_id_[depth_] = id;
  return true;
}

uint32_t ThriftReader::read_list_header(ThriftType& elem_type) {
  uint8_t b = read_u8();
  uint8_t t = b & 0x0F;
  if (t > 12 || t == 0) fail("unknown list element type " + std::to_string(t));
  elem_type = static_cast<ThriftType>(t);
  uint64_t n = b >> 4;
  if (n == 15) n = read_varint();
  // Every element takes at least one byte, except for bools which take one too.
  if (n > static_cast<uint64_t>(end_ - p_)) fail("list longer than the data left");
  return static_cast<uint32_t>(n);
}

bool ThriftReader::read_list_bool() {
  return read_u8() == 1;
}

void ThriftReader::skip(ThriftType type, int depth) {
  if (depth > kMaxDepth) fail("structures nested too deeply");
  switch (type) {
    case ThriftType::kTrue:
    case ThriftType::kFalse:
      return;  // value lives in the field header
    case ThriftType::kByte:
      read_u8();
      return;
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      read_varint();
      return;
    case ThriftType::kDouble:
      read_double();
      return;
    case ThriftType::kBinary:
      read_binary();
      return;
    case ThriftType::kList:
    case ThriftType::kSet: {
      ThriftType et;
      uint32_t n = read_list_header(et);
      for (uint32_t i = 0; i < n; ++i) {
        if (et == ThriftType::kTrue || et == ThriftType::kFalse) {
          read_u8();
        } else {
          skip(et, depth + 1);
        }
      }
      return;
    }
    case ThriftType::kMap: {
      uint64_t n = read_varint();
      if (n == 0) return;
      if (n > static_cast<uint64_t>(end_ - p_)) fail("map longer than the data left");
      uint8_t kv = read_u8();
      auto kt = static_cast<ThriftType>(kv >> 4), vt = static_cast<ThriftType>(kv & 0x0F);
      if ((kv >> 4) > 12 || (kv & 0x0F) > 12) fail("unknown map element type");
      for (uint64_t i = 0; i < n; ++i) {
        if (kt == ThriftType::kTrue || kt == ThriftType::kFalse)
          read_u8();
        else
          skip(kt, depth + 1);
        if (vt == ThriftType::kTrue || vt == ThriftType::kFalse)
          read_u8();
        else
          skip(vt, depth + 1);
      }
      return;
    }
    case ThriftType::kStruct: {
      begin_struct();
      int16_t id;
      ThriftType ft;
      while (next_field(id, ft)) skip(ft, depth + 1);
      end_struct();
      return;
    }
    case ThriftType::kStop:
      fail("unexpected stop");
  }
}

}  // namespace retort
