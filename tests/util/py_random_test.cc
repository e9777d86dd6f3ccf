#include <gtest/gtest.h>

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

}  // namespace
}  // namespace retort
