#pragma once
// Shared by the benchmarks: the median wall-clock time of repeated runs after one warm-up run (first-touch
// of the allocator's pages and of Eigen's and the FFT's internal buffers is not what we measure).
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace dphys::bench {

inline double median(std::vector<double> samples) {
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

inline double median_seconds(int repeats, const std::function<void()>& run) {
  run();
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return median(samples);
}

inline double median_ms(int repeats, const std::function<void()>& run) {
  return 1e3 * median_seconds(repeats, run);
}

}  // namespace dphys::bench
