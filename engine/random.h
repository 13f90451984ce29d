#pragma once
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace dphys {

// Counter-based generator: element i of a draw is a hash of (seed, offset + i), so results do not depend on
// how a kernel splits the work across threads or GPU blocks, and a device draws the host's numbers. Each
// draw advances the offset.
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
  // The first counter not yet reserved. With the seed it is the whole state: a checkpoint saves it and
  // set_offset restores it, after which the draws continue the saved stream exactly.
  std::uint64_t offset() const { return offset_; }
  void set_offset(std::uint64_t offset) { offset_ = offset; }
  // 64 random bits for counter `counter` (SplitMix64 finaliser over the seeded counter).
  DPHYS_HOST_DEVICE static std::uint64_t bits(std::uint64_t seed, std::uint64_t counter) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform double in [0, 1) with 53 random bits.
  DPHYS_HOST_DEVICE static double uniform01(std::uint64_t seed, std::uint64_t counter) {
    return static_cast<double>(bits(seed, counter) >> 11) * 0x1.0p-53;
  }
  // Element i of a uniform draw starting at counter `start`: low + (high − low)·U, capped at `top` (the
  // largest value the draw may take in its dtype).
  DPHYS_HOST_DEVICE static double uniform_element(std::uint64_t seed, std::uint64_t start, std::int64_t i,
                                                  double low, double high, double top) {
    const double value = low + (high - low) * uniform01(seed, start + i);
    return value < top ? value : top;
  }
  // Element i of a normal draw (Box–Muller on counters start + 2i and start + 2i + 1).
  DPHYS_HOST_DEVICE static double normal_element(std::uint64_t seed, std::uint64_t start, std::int64_t i,
                                                 double mean, double stddev) {
    const double u1 = 1.0 - uniform01(seed, start + 2 * i);  // in (0, 1]: log is finite
    const double u2 = uniform01(seed, start + 2 * i + 1);
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

}  // namespace dphys
