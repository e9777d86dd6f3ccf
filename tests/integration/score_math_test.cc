// `retort score math FILE.jsonl` against the real binary: lines come back in order with the
// verdict, extraction and normalised forms; bad input is one clear error naming the line.
#include <gtest/gtest.h>

#include <sstream>

#include "support/test_support.h"

namespace retort::testing {
namespace {

std::vector<Json> lines_of(const std::string& out) {
  std::vector<Json> v;
  std::stringstream ss(out);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) v.push_back(Json::parse(line));
  return v;
}

TEST(ScoreMath, WritesEachLineBackInOrderWithTheVerdict) {
  TempDir dir;
  write_text(
      dir.file("in.jsonl"),
      R"({"id": 1, "gold": "\\frac{1}{2}", "pred": "So the answer is $\\boxed{0.5}$."})"
      "\n"
      R"J({"id": 2, "gold": "(3, \\frac{\\pi}{2})", "pred": "\\left( 3, \\frac{\\pi}{2} \\right)"})J"
      "\n\n"
      R"({"id": 3, "gold": 204, "pred": "<think>\\boxed{204}</think>I could not finish."})"
      "\n"
      R"({"id": 4, "gold": "10", "pred": "The answer is 12."})"
      "\n");
  auto r = run_retort({"score", "math", dir.file("in.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines_of(r.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["id"], 1);
  EXPECT_EQ(rows[0]["equal"], true);
  EXPECT_EQ(rows[0]["extracted"], "0.5");
  EXPECT_EQ(rows[0]["rule"], "boxed");
  EXPECT_EQ(rows[0]["gold_normalized"], "\\frac{1}{2}");
  EXPECT_EQ(rows[0]["equal_string_rule"], true);
  EXPECT_EQ(rows[1]["equal"], true);
  EXPECT_EQ(rows[1]["rule"], "whole");
  EXPECT_EQ(rows[1]["pred_normalized"], "( 3, \\frac{\\pi}{2} )");
  // The string rule finds no \boxed in a bare answer, and one inside the thinking.
  EXPECT_EQ(rows[1]["equal_string_rule"], false);
  EXPECT_TRUE(rows[2]["equal"].is_null());
  EXPECT_EQ(rows[2]["verdict"], "unparseable");
  EXPECT_EQ(rows[2]["rule"], "none");
  EXPECT_EQ(rows[2]["equal_string_rule"], true);
  EXPECT_EQ(rows[3]["equal"], false);
  EXPECT_EQ(rows[3]["extracted"], "12");
  EXPECT_NE(r.err.find("2 of 4 equal"), std::string::npos) << r.err;
}

TEST(ScoreMath, ReadsStandardInputWithDash) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), R"({"gold": "5", "pred": "x = 5"})"
                                   "\n");
  auto r =
      run_command({"/bin/sh", "-c", retort_binary() + " score math - < " + dir.file("in.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = lines_of(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["equal"], true);
}

TEST(ScoreMath, BadLinesAreOneErrorNamingTheLine) {
  TempDir dir;
  write_text(dir.file("in.jsonl"), R"({"gold": "5", "pred": "5"})"
                                   "\n"
                                   R"({"gold": "5"})"
                                   "\n");
  auto r = run_retort({"score", "math", dir.file("in.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("in.jsonl:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing field \"pred\""), std::string::npos) << r.err;
  write_text(dir.file("bad.jsonl"), "{not json\n");
  r = run_retort({"score", "math", dir.file("bad.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.jsonl:1"), std::string::npos) << r.err;
  r = run_retort({"score", "math", dir.file("missing.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
  r = run_retort({"score", "algebra", dir.file("in.jsonl")});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace retort::testing
