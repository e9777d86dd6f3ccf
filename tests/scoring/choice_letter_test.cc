// The generative multiple-choice extractor: which letter a reply names (docs/tasks.md).
#include <gtest/gtest.h>

#include "scoring/scoring.h"

namespace retort {
namespace {

const std::vector<std::string> kFour = {"Paris", "London", "Rome", "Berlin"};

TEST(ChoiceLetter, StatedAnswersWinAndTheLastOneCounts) {
  EXPECT_EQ(extract_choice_letter("The answer is (C).", kFour), "C");
  EXPECT_EQ(extract_choice_letter("Answer: B", kFour), "B");
  EXPECT_EQ(extract_choice_letter("answer: **D**", kFour), "D");
  EXPECT_EQ(extract_choice_letter("Maybe the answer is A... no, the answer is B", kFour), "B");
}

TEST(ChoiceLetter, ALeadingLetterCountsOnlyWhenMarkedAsOne) {
  EXPECT_EQ(extract_choice_letter(" B", kFour), "B");
  EXPECT_EQ(extract_choice_letter("(C)", kFour), "C");
  EXPECT_EQ(extract_choice_letter("A. Paris is the capital", kFour), "A");
  EXPECT_EQ(extract_choice_letter("**D**", kFour), "D");
  EXPECT_EQ(extract_choice_letter("A good question.", kFour), "");
  EXPECT_EQ(extract_choice_letter("I think so", kFour), "");
}

TEST(ChoiceLetter, LettersBeyondTheChoicesAndChoiceTexts) {
  EXPECT_EQ(extract_choice_letter("E", kFour), "");
  EXPECT_EQ(extract_choice_letter("The answer is (E).", kFour), "");
  EXPECT_EQ(extract_choice_letter(" rome.", kFour), "C");
  EXPECT_EQ(extract_choice_letter("Rome is nice", kFour), "");
  EXPECT_EQ(extract_choice_letter("", kFour), "");
}

}  // namespace
}  // namespace retort
