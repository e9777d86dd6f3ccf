// libFuzzer target: the CSV parser (and the JSON / JSON Lines readers) on arbitrary text.
// A retort::Error is an expected outcome; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/csv.h"
#include "data/jsonl.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto run = [&](auto&& parse) {
    try {
      for (const auto& row : parse(text, "fuzz.csv", retort::ReadOptions{})) {
        (void)row.dump(-1, ' ', false, retort::Json::error_handler_t::replace);
      }
    } catch (const retort::Error&) {
    }
  };
  run(retort::parse_csv);
  if (size % 2)
    run(retort::parse_jsonl);
  else
    run(retort::parse_json);
  return 0;
}
