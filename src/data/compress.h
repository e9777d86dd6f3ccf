// Decompression for whole files (.gz, .zst) and for parquet pages (snappy, gzip, zstd,
// lz4). Every function bounds its output: a hostile size field never becomes a huge
// allocation, and corrupt input throws retort::Error naming `where`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace retort {

// Largest output any single decompression may produce (guards hostile inputs).
inline constexpr size_t kMaxDecompressedBytes = size_t{4} << 30;

// Whole-stream decoders with unknown output size (files). gzip accepts concatenated
// members and raw zlib streams.
std::string gunzip(std::string_view in, const std::string& where);
std::string unzstd(std::string_view in, const std::string& where);

// Page decoders with a known output size (parquet): `out` must have room for exactly
// `out_size` bytes, and anything else is corruption.
void snappy_decompress(std::string_view in, char* out, size_t out_size, const std::string& where);
void gzip_decompress(std::string_view in, char* out, size_t out_size, const std::string& where);
void zstd_decompress(std::string_view in, char* out, size_t out_size, const std::string& where);
// LZ4_RAW (block format); falls back to the legacy Hadoop framing used by parquet's LZ4.
void lz4_decompress(std::string_view in, char* out, size_t out_size, const std::string& where);

// Reads a local file, transparently decompressing it when the name ends in .gz or .zst.
std::string read_file_maybe_compressed(const std::string& path);

}  // namespace retort
