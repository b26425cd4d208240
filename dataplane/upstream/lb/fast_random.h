#pragma once
// FastRandom: the shard's pseudo-random source for random and power-of-two-choices picks
// (xorshift64*: a few cycles, no allocation, reproducible from a seed in tests). Not for
// anything security-related.
#include <cstdint>

namespace ringside::lb {

class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }
  // Uniform in [0, n) (Lemire's multiply-shift; n > 0).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;  // never 0
};

}  // namespace ringside::lb
