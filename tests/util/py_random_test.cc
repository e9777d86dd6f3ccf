#include <gtest/gtest.h>

#include <stdexcept>

#include "util/py_random.h"

namespace retort {
namespace {

// Check values from CPython 3.11 (lm-eval-semantics.md §3).
TEST(PyRandom, GetrandbitsMatchesCPython) {
  PyRandom r(1234);
  EXPECT_EQ(r.getrandbits(32), 4150886329u);
  EXPECT_EQ(r.getrandbits(32), 3342196574u);
  EXPECT_EQ(r.getrandbits(32), 1892932127u);
}

TEST(PyRandom, SampleSmallPopulationUsesPoolSwap) {
  PyRandom r(1234);
  EXPECT_EQ(r.sample(10, 3), (std::vector<int64_t>{7, 1, 0}));
  EXPECT_EQ(r.sample(10, 3), (std::vector<int64_t>{1, 0, 9}));
  EXPECT_EQ(r.sample(10, 3), (std::vector<int64_t>{1, 5, 3}));
}

TEST(PyRandom, SampleLargePopulationUsesSelectedSet) {
  PyRandom r(1234);
  EXPECT_EQ(r.sample(1000, 6), (std::vector<int64_t>{989, 796, 451, 119, 7, 92}));
}

// The remaining values were printed by CPython 3.11 for the same calls.
TEST(PyRandom, RandomIs53BitsFromTwoDraws) {
  PyRandom r(0);
  EXPECT_EQ(r.random(), 0.8444218515250481);
  EXPECT_EQ(r.random(), 0.7579544029403025);
}

TEST(PyRandom, WideGetrandbitsAndRandbelow) {
  PyRandom r(42);
  EXPECT_EQ(r.getrandbits(40), 123005401501u);
  EXPECT_EQ(r.getrandbits(64), 13679192365072849617u);
  EXPECT_EQ(r.randbelow(1000), 281u);  // randrange(1000)
}

TEST(PyRandom, SeedsUseTheMagnitudeAsLittleEndianWords) {
  EXPECT_EQ(PyRandom(-7).getrandbits(32), 1390851128u);  // same as Random(7)
  EXPECT_EQ(PyRandom(7).getrandbits(32), 1390851128u);
  EXPECT_EQ(PyRandom((int64_t{1} << 40) + 5).getrandbits(32), 2166296868u);
}

TEST(PyRandom, ChoicesShuffleAndMidSizeSample) {
  PyRandom r(0);
  EXPECT_EQ(r.choices(10, 5), (std::vector<int64_t>{8, 7, 4, 2, 5}));
  PyRandom s(3);
  std::vector<int> x = {0, 1, 2, 3, 4, 5, 6, 7};
  s.shuffle(x);
  EXPECT_EQ(x, (std::vector<int>{0, 5, 7, 2, 1, 6, 4, 3}));
  // k > 5 enlarges the set-size threshold (21 + 4**3), so n = 30 still swaps in a pool.
  PyRandom t(1234);
  EXPECT_EQ(t.sample(30, 10), (std::vector<int64_t>{24, 14, 3, 0, 2, 18, 1, 21, 25, 27}));
  EXPECT_THROW(t.sample(3, 4), std::invalid_argument);
}

}  // namespace
}  // namespace retort
