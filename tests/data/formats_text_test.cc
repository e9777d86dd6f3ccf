// JSON Lines, JSON and CSV reading through read_rows: the shapes `datasets` gives, and
// errors that name the file and line.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include "data/csv.h"
#include "data/formats.h"
#include "data/jsonl.h"
#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;
using testing::write_text;

std::string gzip_bytes(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(DetectFormat, ByExtensionThroughCompression) {
  EXPECT_EQ(detect_format("a/b.jsonl"), FileFormat::kJsonl);
  EXPECT_EQ(detect_format("x.JSONL.GZ"), FileFormat::kJsonl);
  EXPECT_EQ(detect_format("x.json.zst"), FileFormat::kJson);
  EXPECT_EQ(detect_format("x.csv"), FileFormat::kCsv);
  EXPECT_EQ(detect_format("train-00000-of-00001.parquet"), FileFormat::kParquet);
  EXPECT_EQ(detect_format("x.txt"), FileFormat::kUnknown);
  EXPECT_EQ(detect_format("gz"), FileFormat::kUnknown);
}

TEST(Jsonl, SkipsBlankLinesAndKeepsColumnOrder) {
  TempDir d;
  write_text(d.file("a.jsonl"), "{\"q\":\"1+1\",\"a\":2}\n\n  \r\n{\"q\":\"2+2\",\"a\":4}");
  auto rows = read_rows(d.file("a.jsonl"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].dump(), R"({"q":"1+1","a":2})");
  EXPECT_EQ(rows[1].dump(), R"({"q":"2+2","a":4})");
}

TEST(Jsonl, RowsGetTheUnionOfColumnsInFirstSeenOrder) {
  auto rows = parse_jsonl("{\"a\":1}\n{\"b\":2,\"a\":3}\n", "x.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].dump(), R"({"a":1,"b":null})");
  EXPECT_EQ(rows[1].dump(), R"({"a":3,"b":2})");
}

TEST(Jsonl, ErrorNamesFileAndLine) {
  std::string msg = error_of([] { parse_jsonl("{\"a\":1}\n\n{\"a\":\n", "d.jsonl"); });
  EXPECT_NE(msg.find("d.jsonl:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  msg = error_of([] { parse_jsonl("[1,2]\n", "d.jsonl"); });
  EXPECT_NE(msg.find("d.jsonl:1: expected a JSON object per line, found array"), std::string::npos)
      << msg;
}

TEST(Jsonl, LimitAndColumns) {
  ReadOptions o;
  o.limit = 1;
  o.columns = {"c", "a"};
  auto rows = parse_jsonl("{\"a\":1,\"b\":2,\"c\":3}\n{\"a\":4,\"b\":5,\"c\":6}\n", "x", o);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].dump(), R"({"a":1,"c":3})");  // file order, not request order
  o.columns = {"aa"};
  std::string msg = error_of([&] { parse_jsonl("{\"a\":1}\n", "x.jsonl", o); });
  EXPECT_NE(msg.find("no column 'aa'"), std::string::npos) << msg;
}

TEST(Json, ArrayObjectOfArrayAndLines) {
  EXPECT_EQ(parse_json(R"([{"a":1},{"a":2}])", "x").size(), 2u);
  auto rows = parse_json(R"({"data":[{"a":1},{"a":2},{"a":3}]})", "x");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2]["a"], 3);
  EXPECT_EQ(parse_json("{\"a\":1}\n{\"a\":2}\n", "x").size(), 2u);
  std::string msg = error_of([] { parse_json("[1]", "x.json"); });
  EXPECT_NE(msg.find("element 0 is number"), std::string::npos) << msg;
}

TEST(Compressed, GzipAndZstdFilesReadTransparently) {
  TempDir d;
  std::string text = "{\"t\":\"hello\"}\n{\"t\":\"world\"}\n";
  write_text(d.file("a.jsonl.gz"), gzip_bytes(text));
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  write_text(d.file("a.jsonl.zst"), z);
  EXPECT_EQ(read_rows(d.file("a.jsonl.gz")).size(), 2u);
  auto rows = read_rows(d.file("a.jsonl.zst"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["t"], "world");
  write_text(d.file("bad.jsonl.gz"), gzip_bytes(text).substr(0, 15));
  std::string msg = error_of([&] { read_rows(d.file("bad.jsonl.gz")); });
  EXPECT_NE(msg.find("bad.jsonl.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gzip"), std::string::npos) << msg;
}

TEST(JsonLines, FastSerializerMatchesDumpIncludingEscapesAndBadUtf8) {
  Json row = Json::object();
  row["plain"] = "hello";
  row["esc"] = std::string("q\"b\\s/\n\r\t\b\f\x01\x1f\x7f end\0nul", 22);
  row["utf8"] = "caf\xc3\xa9 \xe2\x82\xac long enough to take the fast path";
  row["bad"] = "bad \xff\xfe utf8 in a long string here";
  row["k\xff"] = 1;
  row["nums"] = Json::array({1, -2, 3.5, 1e300, 0.1, -0.0, static_cast<uint64_t>(-1)});
  row["nest"] = Json::object({{"a", Json::array()}, {"b", Json::object()}, {"c", nullptr}});
  row["t"] = true;
  std::string out;
  append_json_line(row, out);
  EXPECT_EQ(out, row.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

TEST(ReadRows, UnknownFormatAndMissingFile) {
  TempDir d;
  write_text(d.file("x.txt"), "hi");
  std::string msg = error_of([&] { read_rows(d.file("x.txt")); });
  EXPECT_NE(msg.find("unknown data file format"), std::string::npos) << msg;
  msg = error_of([&] { read_rows(d.file("nope.jsonl")); });
  EXPECT_NE(msg.find("nope.jsonl"), std::string::npos) << msg;
}

TEST(Csv, QuotedFieldsWithNewlinesQuotesAndCrlf) {
  std::string text =
      "Question,Correct Answer,n\r\n"
      "\"What is \"\"x\"\"?\nSecond line\",\"a, b\",1\r\n"
      "plain,\"\",2\r\n";
  auto rows = parse_csv(text, "g.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["Question"], "What is \"x\"?\nSecond line");
  EXPECT_EQ(rows[0]["Correct Answer"], "a, b");
  EXPECT_EQ(rows[0]["n"], 1);
  EXPECT_TRUE(rows[1]["Correct Answer"].is_null());  // empty is missing, as in pandas
  EXPECT_EQ(rows[1].dump(), R"({"Question":"plain","Correct Answer":null,"n":2})");
}

TEST(Csv, TypeInferenceFollowsPandas) {
  std::string text =
      "i,f,mixed,b,ni,s,allna\n"
      "1,1.5,1,True,1,007,\n"
      "-2,2,x,false,,NA,NaN\n";
  auto rows = parse_csv(text, "t.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0]["i"].is_number_integer());
  EXPECT_EQ(rows[1]["i"], -2);
  EXPECT_TRUE(rows[1]["f"].is_number_float());
  EXPECT_EQ(rows[1]["f"], 2.0);
  EXPECT_EQ(rows[0]["mixed"], "1");  // a string column keeps numeric-looking text
  EXPECT_EQ(rows[0]["b"], true);
  EXPECT_EQ(rows[1]["b"], false);
  EXPECT_TRUE(rows[0]["ni"].is_number_float());  // int column with a gap becomes float
  EXPECT_TRUE(rows[1]["ni"].is_null());
  EXPECT_EQ(rows[0]["s"], 7);
  EXPECT_TRUE(rows[1]["s"].is_null());
  EXPECT_TRUE(rows[0]["allna"].is_null());
}

TEST(Csv, BomBlankLinesShortRowsDuplicateHeaders) {
  auto rows = parse_csv(
      "\xEF\xBB\xBF"
      "a,a,b\n\n1,2\n\n",
      "t.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].dump(), R"({"a":1,"a.1":2,"b":null})");
  EXPECT_TRUE(parse_csv("", "t.csv").empty());
  EXPECT_TRUE(parse_csv("a,b\n", "t.csv").empty());
  rows = parse_csv("a,b\nx,", "t.csv");  // trailing empty field without a newline
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0]["b"].is_null());
}

TEST(Csv, ErrorsNameTheLine) {
  std::string msg = error_of([] { parse_csv("a,b\n1,2\n\"open\nmore", "g.csv"); });
  EXPECT_NE(msg.find("g.csv:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unterminated quoted field"), std::string::npos) << msg;
  msg = error_of([] { parse_csv("a,b\n1,2\n\"x\ny\",2\n1,2,3\n", "g.csv"); });
  EXPECT_NE(msg.find("g.csv:5: expected 2 fields, saw 3"), std::string::npos) << msg;
}

TEST(Csv, ColumnsAndLimit) {
  ReadOptions o;
  o.columns = {"b"};
  o.limit = 2;
  auto rows = parse_csv("a,b\n1,x\n2,y\n3,z\n", "t.csv", o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].dump(), R"({"b":"y"})");
  o.columns = {"B"};
  std::string msg = error_of([&] { parse_csv("a,b\n1,x\n", "t.csv", o); });
  EXPECT_NE(msg.find("no column 'B'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace retort
