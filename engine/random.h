#pragma once
#include <cstdint>

namespace dphys {

// Counter-based generator: element i of a draw is a hash of (seed, offset + i), so results do not depend on
// how a kernel splits the work across threads (or, later, GPU blocks). Each draw advances the offset.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  // Reserves `count` counters and returns the first.
  std::uint64_t advance(std::uint64_t count) {
    const std::uint64_t start = offset_;
    offset_ += count;
    return start;
  }
  // 64 random bits for counter `counter` (SplitMix64 finaliser over the seeded counter).
  static std::uint64_t bits(std::uint64_t seed, std::uint64_t counter) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform double in [0, 1) with 53 random bits.
  static double uniform01(std::uint64_t seed, std::uint64_t counter) {
    return static_cast<double>(bits(seed, counter) >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

}  // namespace dphys
