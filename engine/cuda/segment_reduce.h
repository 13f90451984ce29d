#pragma once
// Reductions of many values into few results (a loss, CG's per-example dot products) in two passes of
// plain loop bodies. Pass one gives each segment `lanes` threads; lane t combines the segment's values
// t, t + lanes, ... (neighbouring lanes read neighbouring values, so a warp's loads coalesce) into its
// partial. Pass two combines each segment's partials in lane order. The number of lanes depends only on the
// sizes, so results do not depend on timing, and the emulated device runs the very same two passes.
#include <cstdint>

#include "engine/cuda/launch.h"
#include "engine/device_memory.h"

namespace dphys::device_kernel {

// Threads that keep an H100/H200 busy (132 multiprocessors × 2048 resident threads).
constexpr std::int64_t kBusyThreads = 132 * 2048;
// Below this many values per lane, a lane's loop costs less than the pass that combines the partials.
constexpr std::int64_t kValuesPerLane = 16;

inline std::int64_t lanes_for(std::int64_t segments, std::int64_t length) {
  std::int64_t lanes = (kBusyThreads + segments - 1) / segments;
  const std::int64_t useful = (length + kValuesPerLane - 1) / kValuesPerLane;
  if (lanes > useful) lanes = useful;
  return lanes < 1 ? 1 : lanes;
}

// store(s, combination of value(s, k) for k < length) for each segment s, combining with `combine` from
// `identity` in the accumulator type A. value may write (CG's fused updates do): it runs exactly once per
// (s, k).
template <class A, class Value, class Combine, class Store>
void segment_reduce(const char* kernel, std::int64_t segments, std::int64_t length, A identity, Value value,
                    Combine combine, Store store) {
  if (segments <= 0) return;
  const std::int64_t lanes = lanes_for(segments, length);
  const std::size_t bytes = static_cast<std::size_t>(segments * lanes) * sizeof(A);
  A* partial = static_cast<A*>(device_memory::allocate(bytes, Device::cuda()));
  for_each(kernel, segments * lanes, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    const std::int64_t s = i / lanes;
    A acc = identity;
    for (std::int64_t k = i % lanes; k < length; k += lanes) acc = combine(acc, value(s, k));
    partial[i] = acc;
  });
  for_each(kernel, segments, [=] DPHYS_HOST_DEVICE(std::int64_t s) {
    A acc = identity;
    for (std::int64_t t = 0; t < lanes; ++t) acc = combine(acc, partial[s * lanes + t]);
    store(s, acc);
  });
  // Freed to the cache: the next use of the block is queued after these kernels on the same stream.
  device_memory::deallocate(partial, bytes, Device::cuda());
}

struct Plus {
  template <class A>
  DPHYS_HOST_DEVICE A operator()(A a, A b) const {
    return a + b;
  }
};

template <class A>
struct StoreTo {
  A* out;
  DPHYS_HOST_DEVICE void operator()(std::int64_t s, A v) const { out[s] = v; }
};

// Per-segment sums of value(s, k) in f64 into the device array sums.
template <class Value>
void segment_sums(const char* kernel, std::int64_t segments, std::int64_t length, Value value, double* sums) {
  segment_reduce<double>(kernel, segments, length, 0.0, value, Plus(), StoreTo<double>{sums});
}

}  // namespace dphys::device_kernel
