// A reader for the Thrift compact protocol, enough for parquet's footer and page headers:
// varints, zigzag ints, field headers with id deltas, binary, lists/sets/maps and skipping
// of any field we do not know. Every read is bounds-checked; nesting is limited so hostile
// input cannot exhaust the stack. Errors throw retort::Error naming `where`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace retort {

enum class ThriftType : uint8_t {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class ThriftReader {
 public:
  ThriftReader(const uint8_t* data, size_t size, const std::string& where)
      : p_(data), begin_(data), end_(data + size), where_(where) {}

  // Reads a field header inside the struct being read; false at the struct's stop byte.
  // Field ids are tracked per nesting level (call begin_struct/end_struct around structs).
  bool next_field(int16_t& id, ThriftType& type);
  void begin_struct();
  void end_struct();

  bool read_bool(ThriftType field_type) const { return field_type == ThriftType::kTrue; }
  int32_t read_i32();
  int64_t read_i64();
  int8_t read_byte();
  double read_double();
  std::string_view read_binary();
  std::string read_string() { return std::string(read_binary()); }
  // List/set header: element count (checked against the bytes left) and element type.
  uint32_t read_list_header(ThriftType& elem_type);
  // Bool list elements are one byte each.
  bool read_list_bool();

  void skip(ThriftType type, int depth = 0);

  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  uint64_t read_varint();
  uint8_t read_u8();

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  const std::string& where_;
  int16_t last_id_[64] = {};
  int depth_ = 0;
};

}  // namespace retort
