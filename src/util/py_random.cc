#include "util/py_random.h"

#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace retort {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpperMask = 0x80000000U;
constexpr uint32_t kLowerMask = 0x7fffffffU;

int bit_length(uint64_t n) {
  int b = 0;
  while (n) {
    ++b;
    n >>= 1;
  }
  return b;
}
}  // namespace

PyRandom::PyRandom(int64_t seed) {
  this->seed(seed);
}

void PyRandom::seed(int64_t seed) {
  // |seed| as an unsigned magnitude (INT64_MIN included), split into LE 32-bit words.
  uint64_t n = seed < 0 ? ~static_cast<uint64_t>(seed) + 1 : static_cast<uint64_t>(seed);
  std::vector<uint32_t> key;
  while (n) {
    key.push_back(static_cast<uint32_t>(n & 0xffffffffU));
    n >>= 32;
  }
  if (key.empty()) key.push_back(0);
  init_by_array(key);
}

void PyRandom::init_genrand(uint32_t s) {
  mt_[0] = s;
  for (mti_ = 1; mti_ < kN; mti_++) {
    mt_[mti_] = 1812433253U * (mt_[mti_ - 1] ^ (mt_[mti_ - 1] >> 30)) + static_cast<uint32_t>(mti_);
  }
}

void PyRandom::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218U);
  size_t i = 1, j = 0;
  const size_t len = key.size();
  for (size_t k = (kN > len ? kN : len); k; k--) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
             static_cast<uint32_t>(j);
    i++;
    j++;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= len) j = 0;
  }
  for (size_t k = kN - 1; k; k--) {
    mt_[i] =
        (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
    i++;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;
  mti_ = kN;
}

void PyRandom::refill() {
  static constexpr uint32_t mag01[2] = {0x0U, kMatrixA};
  uint32_t y;
  int kk;
  for (kk = 0; kk < kN - kM; kk++) {
    y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
    mt_[kk] = mt_[kk + kM] ^ (y >> 1) ^ mag01[y & 0x1U];
  }
  for (; kk < kN - 1; kk++) {
    y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
    mt_[kk] = mt_[kk + (kM - kN)] ^ (y >> 1) ^ mag01[y & 0x1U];
  }
  y = (mt_[kN - 1] & kUpperMask) | (mt_[0] & kLowerMask);
  mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
  for (int i = 0; i < kN; i++) {
    uint32_t t = mt_[i];
    t ^= (t >> 11);
    t ^= (t << 7) & 0x9d2c5680U;
    t ^= (t << 15) & 0xefc60000U;
    t ^= (t >> 18);
    out_[i] = t;
  }
  mti_ = 0;
}

void PyRandom::fill_choices(int64_t n, int64_t* out, size_t count) {
  const double dn = static_cast<double>(n);
  for (size_t i = 0; i < count; i++) out[i] = static_cast<int64_t>(random() * dn);
}

uint64_t PyRandom::getrandbits(int k) {
  if (k < 0 || k > 64) throw std::invalid_argument("getrandbits: k must be in [0, 64]");
  if (k == 0) return 0;
  if (k <= 32) return next_uint32() >> (32 - k);
  // Words fill from the least significant end; the last one keeps its top bits.
  uint64_t low = next_uint32();
  uint64_t high = next_uint32();
  if (k < 64) high >>= (64 - k);
  return low | (high << 32);
}

double PyRandom::random() {
  uint32_t a = next_uint32() >> 5;
  uint32_t b = next_uint32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint64_t PyRandom::randbelow(uint64_t n) {
  if (n == 0) return 0;
  const int k = bit_length(n);
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<int64_t> PyRandom::sample(int64_t population_size, int64_t k) {
  const int64_t n = population_size;
  if (k < 0 || k > n) throw std::invalid_argument("Sample larger than population or is negative");
  std::vector<int64_t> result;
  result.reserve(static_cast<size_t>(k));
  int64_t setsize = 21;
  if (k > 5) {
    setsize += static_cast<int64_t>(
        std::pow(4.0, std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0))));
  }
  if (n <= setsize) {
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) pool[i] = i;
    for (int64_t i = 0; i < k; i++) {
      auto j = static_cast<int64_t>(randbelow(static_cast<uint64_t>(n - i)));
      result.push_back(pool[j]);
      pool[j] = pool[n - i - 1];
    }
  } else {
    std::unordered_set<int64_t> selected;
    for (int64_t i = 0; i < k; i++) {
      auto j = static_cast<int64_t>(randbelow(static_cast<uint64_t>(n)));
      while (selected.count(j)) j = static_cast<int64_t>(randbelow(static_cast<uint64_t>(n)));
      selected.insert(j);
      result.push_back(j);
    }
  }
  return result;
}

std::vector<int64_t> PyRandom::choices(int64_t n, int64_t k) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(k > 0 ? k : 0));
  for (int64_t i = 0; i < k; i++) out.push_back(choice_index(n));
  return out;
}

}  // namespace retort
