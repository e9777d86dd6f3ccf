#include "data/parquet_decode.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace retort::parquet {

namespace {

[[noreturn]] void corrupt(const std::string& where, const std::string& what) {
  throw Error("corrupt parquet page: " + what, where);
}

bool read_uvarint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    v |= uint64_t{b & 0x7Fu} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Unpacks n values of `bw` bits (LSB-first) from p into out (as uint64).
inline uint64_t read_bits(const uint8_t* base, size_t bit_pos, int bw) {
  // Caller guarantees the bytes exist (bit_pos + bw <= available * 8).
  uint64_t v = 0;
  size_t byte = bit_pos >> 3;
  int shift = static_cast<int>(bit_pos & 7);
  int need = shift + bw;
  int nbytes = (need + 7) >> 3;
  if (nbytes <= 8) {
    uint64_t w = 0;
    std::memcpy(&w, base + byte, static_cast<size_t>(nbytes));
    v = w >> shift;
  } else {
    uint64_t w = 0;
    std::memcpy(&w, base + byte, 8);
    v = w >> shift;
    v |= uint64_t{base[byte + 8]} << (64 - shift);
  }
  if (bw < 64) v &= (uint64_t{1} << bw) - 1;
  return v;
}

inline uint64_t read_bits_safe(const uint8_t* base, uint64_t avail, uint64_t bit_pos, int bw) {
  if ((bit_pos >> 3) + 9 <= avail) return read_bits(base, static_cast<size_t>(bit_pos), bw);
  uint64_t v = 0;
  for (int b = 0; b < bw; ++b) {
    uint64_t bb = bit_pos + static_cast<uint64_t>(b);
    v |= uint64_t{(base[bb >> 3] >> (bb & 7)) & 1u} << b;
  }
  return v;
}

}  // namespace

template <typename T>
const uint8_t* decode_rle_hybrid(const uint8_t* p, const uint8_t* end, int bit_width, size_t count,
                                 T* out, const std::string& where) {
  if (bit_width < 0 || bit_width > 32) corrupt(where, "bit width " + std::to_string(bit_width));
  size_t n = 0;
  const size_t value_bytes = static_cast<size_t>((bit_width + 7) / 8);
  while (n < count) {
    uint64_t header;
    if (!read_uvarint(p, end, header)) corrupt(where, "truncated RLE run header");
    if (header & 1) {
      uint64_t groups = header >> 1;
      if (groups == 0) continue;
      uint64_t bytes_avail = static_cast<uint64_t>(end - p);
      // A truncated final run is tolerated only for the values actually needed.
      uint64_t values = groups * 8;
      uint64_t take = std::min<uint64_t>(values, count - n);
      if ((bit_width > 0 && groups > bytes_avail) ||
          (take * static_cast<uint64_t>(bit_width) + 7) / 8 > bytes_avail) {
        corrupt(where, "bit-packed run past the end of the page");
      }
      if (bit_width == 0) {
        for (uint64_t i = 0; i < take; ++i) out[n + i] = 0;
      } else if (bit_width == 1) {
        for (uint64_t i = 0; i < take; ++i) out[n + i] = static_cast<T>((p[i >> 3] >> (i & 7)) & 1);
      } else {
        size_t avail = static_cast<size_t>(bytes_avail);
        for (uint64_t i = 0; i < take; ++i) {
          size_t bit = static_cast<size_t>(i * bit_width);
          out[n + i] = static_cast<T>(read_bits_safe(p, avail, bit, bit_width));
        }
      }
      n += take;
      uint64_t used = std::min<uint64_t>(groups * bit_width, bytes_avail);
      p += used;
    } else {
      uint64_t run = header >> 1;
      if (value_bytes > static_cast<size_t>(end - p)) corrupt(where, "truncated RLE run");
      uint32_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) v |= uint32_t{p[b]} << (8 * b);
      p += value_bytes;
      uint64_t take = std::min<uint64_t>(run, count - n);
      T tv = static_cast<T>(v);
      for (uint64_t i = 0; i < take; ++i) out[n + i] = tv;
      n += take;
    }
  }
  return p;
}

template const uint8_t* decode_rle_hybrid<uint8_t>(const uint8_t*, const uint8_t*, int, size_t,
                                                   uint8_t*, const std::string&);
template const uint8_t* decode_rle_hybrid<uint32_t>(const uint8_t*, const uint8_t*, int, size_t,
                                                    uint32_t*, const std::string&);

size_t decode_delta_binary_packed(const uint8_t* p, const uint8_t* end, std::vector<int64_t>& out,
                                  size_t max_count, const uint8_t** next,
                                  const std::string& where) {
  uint64_t block_size, miniblocks, total, zz;
  if (!read_uvarint(p, end, block_size) || !read_uvarint(p, end, miniblocks) ||
      !read_uvarint(p, end, total) || !read_uvarint(p, end, zz)) {
    corrupt(where, "truncated DELTA_BINARY_PACKED header");
  }
  if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 || block_size > (1u << 20) ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    corrupt(where, "bad DELTA_BINARY_PACKED block size");
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(total, max_count));
  size_t base = out.size();
  out.reserve(base + want);
  uint64_t prev = (zz >> 1) ^ -(zz & 1);
  if (total > 0 && want > 0) out.push_back(static_cast<int64_t>(prev));
  uint64_t remaining = total > 0 ? total - 1 : 0;
  const uint64_t per_mini = block_size / miniblocks;
  while (remaining > 0 && out.size() - base < want) {
    uint64_t mzz;
    if (!read_uvarint(p, end, mzz)) corrupt(where, "truncated DELTA_BINARY_PACKED block");
    uint64_t min_delta = (mzz >> 1) ^ -(mzz & 1);
    if (miniblocks > static_cast<uint64_t>(end - p)) {
      corrupt(where, "truncated DELTA_BINARY_PACKED block");
    }
    const uint8_t* widths = p;
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && remaining > 0 && out.size() - base < want; ++m) {
      int bw = widths[m];
      if (bw > 64) corrupt(where, "DELTA_BINARY_PACKED bit width " + std::to_string(bw));
      uint64_t bytes = per_mini * static_cast<uint64_t>(bw) / 8;
      if (bytes > static_cast<uint64_t>(end - p)) {
        corrupt(where, "truncated DELTA_BINARY_PACKED miniblock");
      }
      uint64_t take = std::min<uint64_t>({per_mini, remaining, want - (out.size() - base)});
      for (uint64_t i = 0; i < take; ++i) {
        uint64_t d = bw == 0 ? 0 : read_bits_safe(p, bytes, i * bw, bw);
        prev += min_delta + d;
        out.push_back(static_cast<int64_t>(prev));
      }
      remaining -= take;
      p += bytes;  // a miniblock's data is always padded to full length
    }
  }
  if (next) *next = p;
  return static_cast<size_t>(std::min<uint64_t>(total, SIZE_MAX));
}

void decode_plain_booleans(const uint8_t* p, const uint8_t* end, size_t count, uint8_t* out,
                           const std::string& where) {
  if ((count + 7) / 8 > static_cast<size_t>(end - p)) corrupt(where, "truncated BOOLEAN values");
  for (size_t i = 0; i < count; ++i) out[i] = (p[i >> 3] >> (i & 7)) & 1;
}

}  // namespace retort::parquet
