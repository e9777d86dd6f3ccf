// libFuzzer target: the parquet reader on arbitrary bytes. Any retort::Error is an expected
// outcome; a crash, hang, sanitizer report or other exception is a bug. Rows that come back
// must serialise (valid UTF-8 everywhere).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/parquet.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    retort::ParquetInfo info = retort::parquet_info_buffer(bytes, "fuzz.parquet");
    retort::ReadOptions opts;
    if (!info.columns.empty() && size % 3 == 0) opts.columns = {info.columns.back()};
    for (const auto& row : retort::read_parquet_buffer(bytes, "fuzz.parquet", opts)) {
      (void)row.dump();
    }
  } catch (const retort::Error&) {
  }
  return 0;
}
