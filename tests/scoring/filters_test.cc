#include <gtest/gtest.h>

#include "scoring/scoring.h"
#include "util/error.h"

namespace retort {
namespace {

Json J(const char* s) {
  return Json::parse(s);
}

FilterPipeline pipeline(const char* yaml_as_json) {
  return parse_filter(J(yaml_as_json), "task.yaml: filter_list[0]");
}

TEST(Filters, DefaultPipelineTakesTheFirstResponse) {
  FilterPipeline p = default_filter();
  EXPECT_EQ(p.name, "none");
  EXPECT_EQ(apply_filter(p, J(R"~(["a", "b"])~"), Json::object()), "a");
  EXPECT_EQ(parse_filter_list(nullptr, "x").size(), 1u);
}

TEST(Filters, Gsm8kStrictMatchExtractsTheFirstHashAnswer) {
  auto p = pipeline(R"~({"name": "strict-match", "filter": [
      {"function": "regex", "regex_pattern": "#### (\\-?[0-9\\.\\,]+)"},
      {"function": "take_first"}]
})~");
  EXPECT_EQ(apply_filter(p, J(R"~(["so 3+4 = 7\n#### 7", "#### 8"])~"), {}), "7");
  // No match: the fallback.
  EXPECT_EQ(apply_filter(p, J(R"~(["The answer is 7."])~"), {}), "[invalid]");
}

TEST(Filters, FlexibleExtractTakesTheLastMatchAndItsFirstNonEmptyGroup) {
  auto p = pipeline(R"~({"name": "flexible-extract", "filter": [
      {"function": "regex", "group_select": -1,
       "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"},
      {"function": "take_first"}]
})~");
  EXPECT_EQ(apply_filter(p, J(R"~(["first 12 then 3"])~"), {}), "3");
  EXPECT_EQ(apply_filter(p, J(R"~(["costs $1,200 total"])~"), {}), "$1,200");
}

TEST(Filters, RegexStripsTheMatchAndKeepsAnEmptyCapture) {
  auto p = pipeline(R"~({"name": "x", "filter": [
      {"function": "regex", "regex_pattern": "Answer:(.*)"}, {"function": "take_first"}]
})~");
  EXPECT_EQ(apply_filter(p, J(R"~(["Answer:  B \n"])~"), {}), "B");
  EXPECT_EQ(apply_filter(p, J(R"~(["Answer:"])~"), {}), "");
  // A non-string response reads as "".
  EXPECT_EQ(apply_filter(p, J(R"~([null])~"), {}), "[invalid]");
}

TEST(Filters, RegexGroupSelectOutOfRangeIsAnError) {
  auto p = pipeline(R"~({"name": "x", "filter": [
      {"function": "regex", "regex_pattern": "\\d", "group_select": 2}]})~");
  EXPECT_THROW(apply_filter(p, J(R"~(["1 2"])~"), {}), Error);
  EXPECT_EQ(apply_filter(p, J(R"~(["1 2 3"])~"), {}), J(R"~(["3"])~"));
}

TEST(Filters, WithoutTakeFirstTheListIsKept) {
  auto p = pipeline(R"~({"name": "x", "filter": [
      {"function": "lowercase"}, {"function": "remove_whitespace"}]})~");
  EXPECT_EQ(apply_filter(p, J(R"~([" ÀB ", "C\n"])~"), {}), J(R"~(["àb", "c"])~"));
  auto up = pipeline(R"~({"name": "x", "filter": [{"function": "uppercase"}]})~");
  EXPECT_EQ(apply_filter(up, J(R"~(["straße"])~"), {}), J(R"~(["STRASSE"])~"));
}

TEST(Filters, TakeFirstKAndMajorityVote) {
  auto p = pipeline(R"~({"name": "maj@3", "filter": [
      {"function": "take_first_k", "k": 3}, {"function": "majority_vote"},
      {"function": "take_first"}]})~");
  EXPECT_EQ(apply_filter(p, J(R"~(["1", "2", "2", "1", "1"])~"), {}), "2");
  // A tie goes to the value seen first.
  EXPECT_EQ(apply_filter(p, J(R"~(["5", "4", "3"])~"), {}), "5");
  auto keep = pipeline(R"~({"name": "k", "filter": [{"function": "take_first_k", "k": 2}]})~");
  EXPECT_EQ(apply_filter(keep, J(R"~(["a", "b", "c"])~"), {}), J(R"~(["a", "b"])~"));
}

TEST(Filters, MapUsesTheDefaultForUnknownValues) {
  auto p = pipeline(R"~({"name": "m", "filter": [
      {"function": "map", "mapping_dict": {"yes": 1, "no": 0}, "default_value": -1},
      {"function": "take_first"}]})~");
  EXPECT_EQ(apply_filter(p, J(R"~(["yes"])~"), {}), 1);
  EXPECT_EQ(apply_filter(p, J(R"~(["maybe"])~"), {}), -1);
}

TEST(Filters, MultiChoiceRegexFallsBackToChoiceTextThenLetter) {
  auto p = pipeline(R"~({"name": "mc", "filter": [
      {"function": "multi_choice_regex", "regex_pattern": "(\\([A-D]\\))",
       "ignore_case": true, "ignore_punctuation": true},
      {"function": "take_first"}]
})~");
  Doc doc = J(R"~({"choices": ["Paris", "Lyon", "Nice", "Lille"]})~");
  // 1: the pattern itself.
  EXPECT_EQ(apply_filter(p, J(R"~(["I pick (C)."])~"), doc), "(C)");
  // 2: a choice's text, compared without case and punctuation.
  EXPECT_EQ(apply_filter(p, J(R"~(["It is LYON!"])~"), doc), "(B)");
  // 3: a bare letter after a colon.
  EXPECT_EQ(apply_filter(p, J(R"~(["answer: D"])~"), doc), "(D)");
  EXPECT_EQ(apply_filter(p, J(R"~(["no idea"])~"), doc), "[invalid]");
  // Choices may come from the caller instead of doc["choices"].
  std::vector<std::string> choices = {"red", "blue"};
  EXPECT_EQ(apply_filter(p, J(R"~(["blue"])~"), Json::object(), &choices), "(B)");
  EXPECT_THROW(apply_filter(p, J(R"~(["x"])~"), Json::object()), Error);
}

TEST(Filters, ConfigErrorsNameTheFieldAndTheChoices) {
  try {
    pipeline(R"~({"name": "x", "filter": [{"function": "regexp"}]})~");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "unknown filter function 'regexp'");
    EXPECT_EQ(e.where(), "task.yaml: filter_list[0].filter[0]");
    EXPECT_NE(e.hint().find("did you mean 'regex'?"), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("multi_choice_regex"), std::string::npos);
  }
  EXPECT_THROW(pipeline(R"~({"name": "x", "filter": [{"function": "custom"}]})~"), Error);
  EXPECT_THROW(pipeline(R"~({"name": "x", "filter": [{"function": "take_first_k"}]})~"), Error);
  EXPECT_THROW(
      pipeline(R"~({"name": "x", "filter": [{"function": "regex", "regex_pattern": "("}]})~"),
      Error);
  EXPECT_THROW(pipeline(R"~({"name": "x", "filter": [{"function": "regex", "groupselect": 1}]})~"),
               Error);
  EXPECT_THROW(pipeline(R"~({"filter": []})~"), Error);
}

}  // namespace
}  // namespace retort
