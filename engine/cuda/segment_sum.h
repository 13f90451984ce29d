#pragma once
// Per-segment sums of f(segment, k) for k < length, in f64: one block per segment with a shared-memory tree
// on a GPU, a serial loop on the emulated device. f may write (CG's fused updates do): it runs exactly once
// per (segment, k). One block per segment keeps the result independent of timing; a single huge segment
// therefore runs on one multiprocessor.
#include "engine/cuda/launch.h"

namespace dphys::device_kernel {

#if defined(__CUDACC__)

constexpr int kSegmentBlock = 256;

template <class F>
__global__ void segment_sum_blocks(std::int64_t segments, std::int64_t length, F f, double* sums) {
  __shared__ double partial[kSegmentBlock];
  for (std::int64_t s = blockIdx.x; s < segments; s += gridDim.x) {
    double acc = 0.0;
    for (std::int64_t k = threadIdx.x; k < length; k += blockDim.x) acc += f(s, k);
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int half = kSegmentBlock / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) sums[s] = partial[0];
    __syncthreads();
  }
}

template <class F>
void segment_sums(const char* kernel, std::int64_t segments, std::int64_t length, F f, double* sums) {
  if (segments <= 0) return;
  const std::int64_t blocks = segments < 65535 ? segments : 65535;
  segment_sum_blocks<<<static_cast<unsigned>(blocks), kSegmentBlock>>>(segments, length, f, sums);
  check_launch(kernel);
}

#else

template <class F>
void segment_sums(const char*, std::int64_t segments, std::int64_t length, F f, double* sums) {
  for (std::int64_t s = 0; s < segments; ++s) {
    double acc = 0.0;
    for (std::int64_t k = 0; k < length; ++k) acc += f(s, k);
    sums[s] = acc;
  }
}

#endif

}  // namespace dphys::device_kernel
