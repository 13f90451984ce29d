#pragma once
// CPU parallelism: OpenMP over independent chunks, only when the work pays for the thread start-up.
#include <cstdint>

namespace dphys {

// Below this many elements a kernel runs on one thread: waking the OpenMP team costs a few microseconds.
constexpr std::int64_t kParallelGrain = 1 << 15;

template <class F>
void parallel_for(std::int64_t n, std::int64_t work_per_item, F&& f) {
  if (n * work_per_item < kParallelGrain) {
    for (std::int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace dphys
