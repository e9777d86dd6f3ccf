#include "data/compress.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

constexpr size_t kChunk = 1 << 16;

// Inflates with zlib; windowBits 15+32 auto-detects gzip or zlib headers.
std::string inflate_all(std::string_view in, const std::string& where) {
  std::string out;
  size_t pos = 0;
  while (pos < in.size()) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error("zlib init failed", where);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - pos, UINT32_MAX));
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      size_t old = out.size();
      if (old + kChunk > kMaxDecompressedBytes) {
        inflateEnd(&zs);
        throw Error("decompressed data is too large", where);
      }
      out.resize(old + kChunk);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs.avail_out = kChunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.resize(old + kChunk - zs.avail_out);
      if (rc == Z_STREAM_END) break;
      if (rc != Z_OK) {
        inflateEnd(&zs);
        throw Error(std::string("corrupt gzip data (") + (zs.msg ? zs.msg : "inflate error") + ")",
                    where);
      }
      if (zs.avail_in == 0 && zs.avail_out != 0) {
        inflateEnd(&zs);
        throw Error("truncated gzip data", where);
      }
    }
    pos = in.size() - zs.avail_in;
    inflateEnd(&zs);
    // Concatenated gzip members continue; trailing zero padding ends the stream.
    while (pos < in.size() && in[pos] == '\0') ++pos;
  }
  return out;
}

}  // namespace

std::string gunzip(std::string_view in, const std::string& where) {
  return inflate_all(in, where);
}

std::string unzstd(std::string_view in, const std::string& where) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (!ctx) throw Error("zstd init failed", where);
  std::string out;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t last = 1;
  while (ib.pos < ib.size) {
    size_t old = out.size();
    if (old + kChunk > kMaxDecompressedBytes) {
      ZSTD_freeDCtx(ctx);
      throw Error("decompressed data is too large", where);
    }
    out.resize(old + kChunk);
    ZSTD_outBuffer ob{out.data() + old, kChunk, 0};
    last = ZSTD_decompressStream(ctx, &ob, &ib);
    out.resize(old + ob.pos);
    if (ZSTD_isError(last)) {
      std::string msg = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(ctx);
      throw Error("corrupt zstd data (" + msg + ")", where);
    }
    if (ob.pos == 0 && ib.pos == ib.size) break;
  }
  // Drain any output still buffered inside the decoder.
  while (last != 0) {
    size_t old = out.size();
    if (old + kChunk > kMaxDecompressedBytes) break;
    out.resize(old + kChunk);
    ZSTD_outBuffer ob{out.data() + old, kChunk, 0};
    last = ZSTD_decompressStream(ctx, &ob, &ib);
    out.resize(old + ob.pos);
    if (ZSTD_isError(last) || ob.pos == 0) break;
  }
  ZSTD_freeDCtx(ctx);
  if (last != 0) throw Error("truncated zstd data", where);
  return out;
}

void snappy_decompress(std::string_view in, char* out, size_t out_size, const std::string& where) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n) || n != out_size) {
    throw Error("corrupt snappy data (length " + std::to_string(n) + ", expected " +
                    std::to_string(out_size) + ")",
                where);
  }
  if (!snappy::RawUncompress(in.data(), in.size(), out)) {
    throw Error("corrupt snappy data", where);
  }
}

void gzip_decompress(std::string_view in, char* out, size_t out_size, const std::string& where) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error("zlib init failed", where);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  zs.next_out = reinterpret_cast<Bytef*>(out);
  zs.avail_out = static_cast<uInt>(std::min<size_t>(out_size, UINT32_MAX));
  // A page may hold several gzip members one after another (RFC 1952 allows it, and some
  // writers compress a page in pieces: apache/parquet-testing's
  // concatenated_gzip_members.parquet); each member inflates after the one before.
  int rc = Z_OK;
  for (;;) {
    rc = inflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END || zs.avail_out == 0) break;
    while (zs.avail_in > 0 && *zs.next_in == 0) {  // zero padding after a member ends it
      ++zs.next_in;
      --zs.avail_in;
    }
    if (zs.avail_in == 0 || inflateReset(&zs) != Z_OK) break;
  }
  size_t produced = out_size - zs.avail_out;
  std::string why = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != out_size) {
    throw Error("corrupt gzip data in page" + (why.empty() ? std::string() : " (" + why + ")") +
                    ": it inflates to " + std::to_string(produced) +
                    " bytes, the page header says " + std::to_string(out_size),
                where);
  }
}

void zstd_decompress(std::string_view in, char* out, size_t out_size, const std::string& where) {
  size_t n = ZSTD_decompress(out, out_size, in.data(), in.size());
  if (ZSTD_isError(n)) {
    throw Error(std::string("corrupt zstd data in page (") + ZSTD_getErrorName(n) + ")", where);
  }
  if (n != out_size) throw Error("zstd page decompressed to the wrong size", where);
}

void lz4_decompress(std::string_view in, char* out, size_t out_size, const std::string& where) {
  if (in.size() > INT32_MAX || out_size > INT32_MAX) throw Error("lz4 page too large", where);
  int n =
      LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(out_size));
  if (n >= 0 && static_cast<size_t>(n) == out_size) return;
  // Legacy parquet LZ4: Hadoop framing, blocks of [u32 BE raw size][u32 BE compressed size].
  auto be32 = [](const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
  };
  size_t ip = 0, op = 0;
  while (ip < in.size()) {
    if (in.size() - ip < 8) throw Error("corrupt lz4 data in page", where);
    uint32_t raw = be32(in.data() + ip), comp = be32(in.data() + ip + 4);
    ip += 8;
    if (comp > in.size() - ip || raw > out_size - op) {
      throw Error("corrupt lz4 data in page", where);
    }
    int m = LZ4_decompress_safe(in.data() + ip, out + op, static_cast<int>(comp),
                                static_cast<int>(raw));
    if (m < 0 || static_cast<uint32_t>(m) != raw) throw Error("corrupt lz4 data in page", where);
    ip += comp;
    op += raw;
  }
  if (op != out_size) throw Error("corrupt lz4 data in page", where);
}

std::string read_file_maybe_compressed(const std::string& path) {
  std::string lower = to_lower(path);
  if (ends_with(lower, ".gz")) return gunzip(read_file(path), path);
  if (ends_with(lower, ".zst") || ends_with(lower, ".zstd")) return unzstd(read_file(path), path);
  return read_file(path);
}

}  // namespace retort
