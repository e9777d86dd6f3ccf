#include "data/parquet.h"

#include "util/error.h"

namespace retort {

ParquetInfo parquet_info(const std::string& path) {
  throw Error("parquet reading is not implemented yet", path);
}
ParquetInfo parquet_info_buffer(std::string_view, const std::string& where) {
  throw Error("parquet reading is not implemented yet", where);
}
std::vector<Doc> read_parquet(const std::string& path, const ReadOptions&) {
  throw Error("parquet reading is not implemented yet", path);
}
std::vector<Doc> read_parquet_buffer(std::string_view, const std::string& where,
                                     const ReadOptions&) {
  throw Error("parquet reading is not implemented yet", where);
}

}  // namespace retort
