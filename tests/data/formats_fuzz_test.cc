// A short, deterministic fuzz run in the default suite: the parquet reader and the CSV /
// JSON readers on mutated fixtures must either return rows or throw retort::Error (no
// crash, hang, or other exception). The real, coverage-guided run is libFuzzer (fuzz/,
// -DRETORT_FUZZ=ON); RETORT_FUZZ_ITERS=N makes this one longer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "data/csv.h"
#include "data/jsonl.h"
#include "data/parquet.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {
namespace {

namespace fs = std::filesystem;

int iterations(int fallback) {
  const char* e = std::getenv("RETORT_FUZZ_ITERS");
  return e ? std::max(1, std::atoi(e)) : fallback;
}

// One random mutation, in the spirit of libFuzzer's: flips, interesting bytes, varint-ish
// runs, erased / duplicated / spliced ranges, truncation.
void mutate(std::string& s, std::mt19937_64& rng, const std::string& other) {
  auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  switch (rng() % 8) {
    case 0:
      if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
      break;
    case 1: {
      static const unsigned char kInteresting[] = {0,    1,    0x7F, 0x80, 0xFF, 0x0F,
                                                   0x10, 0x15, 0x19, 0x1C, 0x2C, 0x40};
      if (!s.empty()) s[pick(s.size())] = static_cast<char>(kInteresting[rng() % 12]);
      break;
    }
    case 2:  // a long varint or a big little-endian length
      if (s.size() > 4) {
        size_t p = pick(s.size() - 4);
        for (size_t k = 0; k < 4; ++k) s[p + k] = static_cast<char>(rng() % 2 ? 0xFF : 0x80);
      }
      break;
    case 3:
      if (!s.empty()) {
        size_t p = pick(s.size());
        s.erase(p, 1 + pick(std::min<size_t>(64, s.size() - p)));
      }
      break;
    case 4:
      if (!s.empty()) {
        size_t p = pick(s.size());
        size_t n = 1 + pick(std::min<size_t>(32, s.size() - p));
        s.insert(pick(s.size()), s.substr(p, n));
      }
      break;
    case 5:
      if (!other.empty() && !s.empty()) {
        size_t p = pick(other.size());
        std::string chunk = other.substr(p, 1 + pick(std::min<size_t>(128, other.size() - p)));
        s.replace(pick(s.size()), chunk.size(), chunk);
      }
      break;
    case 6:
      s.resize(pick(s.size() + 1));
      break;
    default:
      if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
  }
}

std::vector<std::string> files_in(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (ends_with(e.path().string(), ext)) out.push_back(read_file(e.path().string()));
  }
  return out;
}

TEST(FuzzShort, ParquetReaderSurvivesMutatedFixtures) {
  auto seeds = files_in(testing::source_dir() + "/tests/fixtures/parquet", ".parquet");
  ASSERT_FALSE(seeds.empty());
  std::mt19937_64 rng(42);
  int n = iterations(4000);
  int ok = 0, errors = 0;
  for (int i = 0; i < n; ++i) {
    std::string s = seeds[static_cast<size_t>(i) % seeds.size()];
    int rounds = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < rounds; ++k) mutate(s, rng, seeds[rng() % seeds.size()]);
    try {
      ReadOptions o;
      if (i % 3 == 0) o.limit = 5;
      for (const auto& row : read_parquet_buffer(s, "fuzz.parquet", o)) (void)row.dump();
      ++ok;
    } catch (const Error&) {
      ++errors;
    }
  }
  // Both outcomes happen: mutations that miss the data still read.
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 0);
}

TEST(FuzzShort, CsvAndJsonReadersSurviveMutatedText) {
  std::vector<std::string> seeds = {
      "a,b,c\n1,\"x, y\",3.5\n\"multi\nline\",\"q\"\"uote\",\r\n,,\n",
      "Question,Correct Answer\n\"What?\nReally\",\"Yes\"\"\"\nNA,True\n",
      "{\"a\": 1, \"b\": [1, 2, {\"c\": null}]}\n\n{\"a\": \"\\u00e9\", \"d\": true}\n",
      "[{\"x\": 1.5e3}, {\"y\": \"z\"}]",
      "{\"data\": [{\"q\": 1}, {\"q\": 2}]}",
  };
  std::mt19937_64 rng(7);
  int n = iterations(1500) * 4;
  for (int i = 0; i < n; ++i) {
    std::string s = seeds[static_cast<size_t>(i) % seeds.size()];
    int rounds = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < rounds; ++k) mutate(s, rng, seeds[rng() % seeds.size()]);
    for (int which = 0; which < 3; ++which) {
      try {
        std::vector<Doc> rows = which == 0   ? parse_csv(s, "fuzz.csv")
                                : which == 1 ? parse_jsonl(s, "fuzz.jsonl")
                                             : parse_json(s, "fuzz.json");
        for (const auto& row : rows) (void)row.dump(-1, ' ', false, Json::error_handler_t::replace);
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace retort
