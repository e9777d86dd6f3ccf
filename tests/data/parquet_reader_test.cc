// The parquet reader against files written by independent writers (DuckDB, hyparquet-writer,
// a hand-rolled writer for legacy shapes): every fixture's rows must equal what DuckDB reads
// from it (tests/fixtures/parquet/*.expected.jsonl, made by make_fixtures.mjs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <lz4.h>
#include <zlib.h>

#include "data/compress.h"
#include "data/formats.h"
#include "data/jsonl.h"
#include "data/parquet.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {
namespace {

namespace fs = std::filesystem;

std::string gzip_compress_for_test(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string fixture_dir() {
  return testing::source_dir() + "/tests/fixtures/parquet";
}
std::string fixture(const std::string& name) {
  return fixture_dir() + "/" + name;
}

std::vector<std::string> parquet_fixtures() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fixture_dir())) {
    if (e.path().extension() == ".parquet") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Json> read_expected(const std::string& parquet_name) {
  std::string p = fixture(parquet_name.substr(0, parquet_name.size() - 8) + ".expected.jsonl");
  std::vector<Json> rows;
  for (const auto& line : split(read_file(p), '\n')) {
    if (!trim(line).empty()) rows.push_back(Json::parse(line));
  }
  return rows;
}

// Structural equality where numbers compare by value (DuckDB prints integral doubles as
// 0.0). b is the expected side, where {"__float__": "NaN"|"Infinity"|"-Infinity"} stands for
// a float JSON cannot write.
bool same(const Json& a, const Json& b, std::string& path) {
  if (b.is_object() && b.size() == 1 && b.contains("__float__")) {
    if (!a.is_number_float()) return false;
    double x = a.get<double>();
    const std::string want = b["__float__"].get<std::string>();
    if (want == "NaN") return std::isnan(x);
    return std::isinf(x) && (want == "Infinity") == (x > 0);
  }
  if (a.is_number() && b.is_number()) {
    if (a.is_number_integer() && b.is_number_integer()) {
      if (a.is_number_unsigned() || b.is_number_unsigned()) {
        return a.get<uint64_t>() == b.get<uint64_t>();
      }
      return a.get<int64_t>() == b.get<int64_t>();
    }
    double x = a.get<double>(), y = b.get<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      std::string sub = path + "[" + std::to_string(i) + "]";
      if (!same(a[i], b[i], sub)) {
        path = sub;
        return false;
      }
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    auto ia = a.begin();
    auto ib = b.begin();
    for (; ia != a.end(); ++ia, ++ib) {
      if (ia.key() != ib.key()) {
        path += " (key order: " + ia.key() + " vs " + ib.key() + ")";
        return false;
      }
      std::string sub = path + "." + ia.key();
      if (!same(*ia, *ib, sub)) {
        path = sub;
        return false;
      }
    }
    return true;
  }
  return a == b;
}

class ParquetDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(ParquetDifferential, RowsMatchDuckDB) {
  std::vector<Json> want = read_expected(GetParam());
  std::vector<Doc> got = read_parquet(fixture(GetParam()));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    std::string path = "row " + std::to_string(i);
    ASSERT_TRUE(same(got[i], want[i], path))
        << GetParam() << ": " << path << "\n  ours:   " << got[i].dump()
        << "\n  duckdb: " << want[i].dump();
  }
}

// The library's dump() with Python's tokens for non-finite floats (where dump() writes null).
std::string dump_with_py_floats(Json v) {
  const std::string marks[3] = {"~~NaN~~", "~~Infinity~~", "~~-Infinity~~"};
  std::function<void(Json&)> mark = [&](Json& x) {
    if (x.is_structured()) {
      for (auto& e : x) mark(e);
    } else if (x.is_number_float() && !std::isfinite(x.get<double>())) {
      double d = x.get<double>();
      x = std::isnan(d) ? marks[0] : d > 0 ? marks[1] : marks[2];
    }
  };
  mark(v);
  std::string text = v.dump();
  for (const auto& m : marks) {
    std::string quoted = "\"" + m + "\"";
    for (size_t at; (at = text.find(quoted)) != std::string::npos;)
      text.replace(at, quoted.size(), m.substr(2, m.size() - 4));
  }
  return text;
}

TEST_P(ParquetDifferential, FastJsonLinesMatchTheLibrarySerializer) {
  std::string out;
  for (const Doc& row : read_parquet(fixture(GetParam()))) {
    out.clear();
    append_json_line(row, out);
    ASSERT_EQ(out, dump_with_py_floats(row) + "\n");
  }
}

TEST_P(ParquetDifferential, BatchesAreRowGroups) {
  ParquetInfo info = parquet_info(fixture(GetParam()));
  std::vector<size_t> sizes;
  ReadOptions o;
  read_parquet_batches(fixture(GetParam()), o,
                       [&](std::vector<Doc>& rows) { sizes.push_back(rows.size()); });
  std::vector<size_t> want;
  for (const auto& rg : info.row_groups) {
    if (rg.num_rows) want.push_back(static_cast<size_t>(rg.num_rows));
  }
  EXPECT_EQ(sizes, want);
}

TEST_P(ParquetDifferential, ProjectionReadsTheSameValues) {
  ParquetInfo info = parquet_info(fixture(GetParam()));
  ASSERT_FALSE(info.columns.empty());
  // Every other column, asked for in reverse order: rows keep the file's column order.
  std::vector<std::string> cols;
  for (size_t i = 0; i < info.columns.size(); i += 2) cols.insert(cols.begin(), info.columns[i]);
  ReadOptions o;
  o.columns = cols;
  o.limit = 37;
  std::vector<Doc> got = read_parquet(fixture(GetParam()), o);
  std::vector<Json> want = read_expected(GetParam());
  ASSERT_EQ(got.size(), std::min<size_t>(37, want.size()));
  for (size_t i = 0; i < got.size(); ++i) {
    Json w = Json::object();
    for (size_t c = 0; c < info.columns.size(); c += 2)
      w[info.columns[c]] = want[i][info.columns[c]];
    std::string path = "row " + std::to_string(i);
    ASSERT_TRUE(same(got[i], w, path)) << GetParam() << ": " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParquetDifferential, ::testing::ValuesIn(parquet_fixtures()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 8);
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Parquet, FixturesCoverEveryCodecAndEncoding) {
  std::set<std::string> codecs, encodings;
  for (const auto& f : parquet_fixtures()) {
    for (const auto& rg : parquet_info(fixture(f)).row_groups) {
      codecs.insert(rg.codecs.begin(), rg.codecs.end());
      for (const auto& e : rg.encodings) encodings.insert(e.begin(), e.end());
    }
  }
  for (const char* c : {"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD", "LZ4_RAW"}) {
    EXPECT_TRUE(codecs.count(c)) << c;
  }
  for (const char* e : {"PLAIN", "RLE", "RLE_DICTIONARY", "DELTA_BINARY_PACKED",
                        "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT"}) {
    EXPECT_TRUE(encodings.count(e)) << e;
  }
}

TEST(Parquet, GzipPagesOfSeveralMembersInflateMemberAfterMember) {
  // Every GZIP page of this file is two gzip members (apache/parquet-testing's
  // concatenated_gzip_members.parquet has the same shape).
  std::vector<Doc> rows = read_parquet(fixture("hyparquet_gzip_members.parquet"));
  ASSERT_EQ(rows.size(), 500u);
  EXPECT_EQ(rows[499]["text"], "member 499 zzzz");
  EXPECT_EQ(rows[3]["x"], 4.5);

  std::string a = gzip_compress_for_test("first member, ");
  std::string b = gzip_compress_for_test("second member");
  std::string page = a + b + std::string(4, '\0');  // zero padding after the last member
  std::string out(27, '\0');
  gzip_decompress(page, out.data(), out.size(), "page");
  EXPECT_EQ(out, "first member, second member");
  // A page that inflates to less than its header says is still an error.
  std::string longer(40, '\0');
  EXPECT_THROW(gzip_decompress(page, longer.data(), longer.size(), "page"), Error);
}

TEST(Parquet, DecimalsKeepEveryDigitAsPythonPrintsThem) {
  for (const char* f : {"arrowrs_layouts_gzip.parquet", "duckdb_layouts.parquet"}) {
    ReadOptions o;
    o.columns = {"dec_9_2", "dec_18_6", "dec_38_10", "dec_10_0"};
    o.limit = 4;
    std::vector<Doc> rows = read_parquet(fixture(f), o);
    ASSERT_EQ(rows.size(), 4u) << f;
    // str(Decimal) of pyarrow's values: the scale's zeros kept, exponent form below 1e-6.
    EXPECT_EQ(rows[0]["dec_9_2"], "-100.00") << f;
    EXPECT_EQ(rows[0]["dec_18_6"], "-5.000000") << f;
    EXPECT_EQ(rows[0]["dec_38_10"], "1E-10") << f;
    EXPECT_EQ(rows[1]["dec_38_10"], "-9876543210987.6543210987") << f;
    EXPECT_EQ(rows[0]["dec_10_0"], "-1000000") << f;
  }
}

TEST(Parquet, NonFiniteFloatsStayFloats) {
  std::vector<Doc> rows = read_parquet(fixture("arrowrs_layouts_v2.parquet"));
  ASSERT_GE(rows.size(), 10u);
  EXPECT_TRUE(std::isnan(rows[0]["f64"].get<double>()));
  EXPECT_EQ(rows[1]["f64"].get<double>(), INFINITY);
  EXPECT_EQ(rows[2]["f64"].get<double>(), -INFINITY);
  EXPECT_TRUE(std::signbit(rows[3]["f64"].get<double>()));  // -0.0
  EXPECT_TRUE(rows[9]["f64"].is_null());
  EXPECT_TRUE(std::isnan(rows[0]["f32"].get<double>()));
  std::string line;
  append_json_line(Json{{"a", rows[0]["f64"]}, {"b", rows[1]["f32"]}, {"c", rows[2]["f32"]}}, line);
  EXPECT_EQ(line, "{\"a\":NaN,\"b\":Infinity,\"c\":-Infinity}\n");
}

TEST(Parquet, InfoShowsSchemaRowGroupsAndHuggingfaceMetadata) {
  ParquetInfo info = parquet_info(fixture("duckdb_hf_metadata.parquet"));
  EXPECT_EQ(info.num_rows, 10);
  ASSERT_EQ(info.columns, (std::vector<std::string>{"id", "label"}));
  bool found = false;
  for (const auto& [k, v] : info.key_value_metadata) {
    if (k == "huggingface") {
      found = true;
      EXPECT_EQ(Json::parse(v)["info"]["features"]["label"]["names"][1], "pos");
    }
  }
  EXPECT_TRUE(found);
  ParquetInfo nested = parquet_info(fixture("duckdb_nested.parquet"));
  EXPECT_GT(parquet_info(fixture("hyparquet_nested.parquet")).row_groups.size(), 1u);
  std::map<std::string, std::string> types(nested.column_types.begin(), nested.column_types.end());
  EXPECT_EQ(types["ints"], "list<int64>");
  EXPECT_EQ(types["choices"], "struct<text: list<string>, label: list<string>>");
  EXPECT_EQ(types["m"], "map<string, int64>");
}

TEST(Parquet, ReadRowsDispatchesAndLimitStopsEarly) {
  ReadOptions o;
  o.limit = 3;
  auto rows = read_rows(fixture("duckdb_nested.parquet"), o);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2]["ints"].dump(), "[2,null,4]");
  EXPECT_EQ(rows[1]["ints"].dump(), "[]");
  EXPECT_TRUE(rows[0]["ints"].is_null());
}

TEST(Parquet, UnknownColumnIsAnError) {
  ReadOptions o;
  o.columns = {"chioces"};
  try {
    read_parquet(fixture("duckdb_nested.parquet"), o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no column 'chioces'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("did you mean 'choices'"), std::string::npos) << e.message();
  }
}

// Reads bytes that may be corrupt: an Error is fine, anything else (crash, other exception)
// is not.
void read_corrupt(const std::string& bytes, const std::string& what) {
  try {
    read_parquet_buffer(bytes, what);
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(what), std::string::npos) << e.message();
  }
}

TEST(Parquet, TruncatedFilesGiveErrorsNamingTheFile) {
  for (const auto& f : parquet_fixtures()) {
    std::string bytes = read_file(fixture(f));
    size_t step = std::max<size_t>(1, bytes.size() / 97);
    for (size_t cut = 0; cut < bytes.size(); cut += step) {
      std::string t = bytes.substr(0, cut);
      try {
        read_parquet_buffer(t, "cut.parquet");
        ADD_FAILURE() << f << " cut at " << cut << " read without error";
      } catch (const Error& e) {
        EXPECT_NE(e.message().find("cut.parquet"), std::string::npos) << e.message();
      }
    }
  }
}

TEST(Parquet, CorruptedBytesNeverCrash) {
  std::mt19937 rng(1234);
  for (const auto& f : parquet_fixtures()) {
    std::string bytes = read_file(fixture(f));
    for (int trial = 0; trial < 60; ++trial) {
      std::string t = bytes;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) {
        // Half of the damage lands in the footer, where sizes and offsets live.
        size_t pos = (trial % 2 && t.size() > 600) ? t.size() - 1 - rng() % 600 : rng() % t.size();
        t[pos] = static_cast<char>(rng());
      }
      read_corrupt(t, "damaged.parquet");
    }
  }
}

TEST(ParquetCodecs, Lz4RawAndLegacyHadoopFraming) {
  std::string raw(5000, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>("abcab"[i % 5] + i % 3);
  std::string block(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))), '\0');
  block.resize(static_cast<size_t>(LZ4_compress_default(
      raw.data(), block.data(), static_cast<int>(raw.size()), static_cast<int>(block.size()))));
  std::string out(raw.size(), '\0');
  lz4_decompress(block, out.data(), out.size(), "p");
  EXPECT_EQ(out, raw);
  // Hadoop framing: [u32 BE raw size][u32 BE compressed size][block].
  auto be32 = [](uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
    return s;
  };
  std::string framed =
      be32(static_cast<uint32_t>(raw.size())) + be32(static_cast<uint32_t>(block.size())) + block;
  std::fill(out.begin(), out.end(), '\0');
  lz4_decompress(framed, out.data(), out.size(), "p");
  EXPECT_EQ(out, raw);
  EXPECT_THROW(lz4_decompress(framed.substr(0, framed.size() - 3), out.data(), out.size(), "p"),
               Error);
}

TEST(Parquet, NotParquetAtAll) {
  testing::TempDir d;
  testing::write_text(d.file("x.parquet"), "{\"a\": 1}\n");
  try {
    read_rows(d.file("x.parquet"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("x.parquet"), std::string::npos);
    EXPECT_NE(e.message().find("not parquet"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace retort
