// Internal: parquet value and level encodings, decoded from a bounded byte range. Each
// decoder checks every read against the end of its input and throws retort::Error naming
// `where` on corruption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace retort::parquet {

// RLE / bit-packed hybrid: appends exactly `count` values of `bit_width` bits (0..32).
// Returns the position after the last run consumed.
template <typename T>
const uint8_t* decode_rle_hybrid(const uint8_t* p, const uint8_t* end, int bit_width, size_t count,
                                 T* out, const std::string& where);

// DELTA_BINARY_PACKED: decodes the header, then up to `max_count` values. Returns the
// number of values stored in the header; `next` gets the position after the data.
size_t decode_delta_binary_packed(const uint8_t* p, const uint8_t* end, std::vector<int64_t>& out,
                                  size_t max_count, const uint8_t** next, const std::string& where);

// Bit-packed booleans (PLAIN BOOLEAN): count values, LSB first.
void decode_plain_booleans(const uint8_t* p, const uint8_t* end, size_t count, uint8_t* out,
                           const std::string& where);

// Width in bits needed to store v (0 for 0).
inline int bit_width_of(uint64_t v) {
  return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

}  // namespace retort::parquet
