// `retort data dump|info` on local files, run as a user would: the real binary, checking
// stdout, stderr and the exit code.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort {
namespace {

using testing::run_retort;

std::string fixture(const std::string& name) {
  return testing::source_dir() + "/tests/fixtures/parquet/" + name;
}

TEST(DataCli, DumpPrintsJsonLinesWithLimitAndColumns) {
  auto r = run_retort(
      {"data", "dump", fixture("duckdb_nested.parquet"), "--limit", "3", "--columns", "strs,id"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = split(trim(r.out), '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"id":0,"strs":null})");
  EXPECT_EQ(lines[2], R"({"id":2,"strs":["a2",null]})");
}

TEST(DataCli, DumpShowsNonFiniteFloatsAndDecimalsAsPythonDoes) {
  auto r = run_retort({"data", "dump", fixture("arrowrs_layouts_gzip.parquet"), "--limit", "3",
                       "--columns", "id,f64,dec_38_10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = split(trim(r.out), '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"id":0,"f64":NaN,"dec_38_10":"1E-10"})");
  EXPECT_EQ(lines[1], R"({"id":1,"f64":Infinity,"dec_38_10":"-9876543210987.6543210987"})");
  EXPECT_EQ(lines[2], R"({"id":2,"f64":-Infinity,"dec_38_10":"19753086421975.3086421974"})");
}

TEST(DataCli, DumpReadsEveryFileOfADirectorySplit) {
  testing::TempDir d;
  testing::write_text(d.file("train.jsonl"), "{\"q\":1}\n{\"q\":2}\n");
  testing::write_text(d.file("test.csv"), "q,a\n\"x\ny\",1\n");
  auto r = run_retort({"data", "dump", d.path(), "--split", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(trim(r.out), R"({"q":"x\ny","a":1})");
  r = run_retort({"data", "dump", d.path(), "--split", "validation"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("validation"), std::string::npos) << r.err;
}

TEST(DataCli, InfoShowsFormatRowsSchemaAndFeatures) {
  auto r = run_retort({"data", "info", fixture("duckdb_hf_metadata.parquet")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("format: parquet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rows: 10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  label: int64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ClassLabel"), std::string::npos) << r.out;
}

TEST(DataCli, ErrorsAreOneClearMessage) {
  testing::TempDir d;
  testing::write_text(d.file("bad.parquet"), "PAR1 this is not really parquet PAR1");
  auto r = run_retort({"data", "dump", d.file("bad.parquet")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.parquet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("corrupt parquet file"), std::string::npos) << r.err;
  r = run_retort({"data", "dump", d.file("missing.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  r = run_retort({"data", "frobnicate", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown action"), std::string::npos) << r.err;
  r = run_retort({"data", "dump", fixture("duckdb_nested.parquet"), "--limit", "-3"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace retort
