// A bit-exact re-implementation of CPython's `random.Random` for the draws lm-eval makes:
// few-shot sampling (`sample`), bootstrap resampling (`choices`), `shuffle`. Same seed,
// same sequence as Python: MT19937 seeded with init_by_array over the 32-bit little-endian
// words of |seed|, `random()` built from two draws as (a>>5, b>>6), and `_randbelow` by
// rejection on getrandbits(n.bit_length()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace retort {

class PyRandom {
 public:
  // random.Random(seed) for an int seed; the sign is ignored, as in CPython.
  explicit PyRandom(int64_t seed = 0);
  // random.Random.seed(seed).
  void seed(int64_t seed);

  // genrand_uint32: the next raw 32-bit output of MT19937.
  uint32_t next_uint32() {
    if (mti_ >= 624) refill();
    return out_[mti_++];
  }
  // getrandbits(k) for 0 <= k <= 64 (Python ints are unbounded; we need no more).
  uint64_t getrandbits(int k);
  // random(): a double in [0, 1) with 53 random bits.
  double random();
  // _randbelow(n): uniform in [0, n), by rejection. n == 0 gives 0.
  uint64_t randbelow(uint64_t n);

  // sample(range(population_size), k): the indices Python would pick, in order.
  // Throws std::invalid_argument when k > population_size (Python's ValueError).
  std::vector<int64_t> sample(int64_t population_size, int64_t k);
  // choices(range(n), k=k) without weights: k indices floor(random() * n).
  std::vector<int64_t> choices(int64_t n, int64_t k);
  // One index floor(random() * n), the element choices() draws.
  int64_t choice_index(int64_t n) {
    return static_cast<int64_t>(random() * static_cast<double>(n));
  }
  // choices(range(n), k=count) written into out[0..count), without allocating.
  void fill_choices(int64_t n, int64_t* out, size_t count);

  // shuffle(x) in place.
  template <typename T>
  void shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i-- > 1;) {
      size_t j = static_cast<size_t>(randbelow(i + 1));
      std::swap(x[i], x[j]);
    }
  }

 private:
  void init_genrand(uint32_t s);
  void init_by_array(const std::vector<uint32_t>& key);
  // Twists the state and tempers the next 624 outputs into out_ in one pass, so that a
  // draw is a load (the bootstrap draws billions).
  void refill();

  std::array<uint32_t, 624> mt_{};
  std::array<uint32_t, 624> out_{};
  int mti_ = 625;
};

}  // namespace retort
