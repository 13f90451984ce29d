#pragma once
// How the device kernels in engine/cuda/*.cu run. A kernel is a loop body `f(i)` over i in [0, n):
//  - compiled by nvcc, for_each launches it as a grid-stride loop on the default stream;
//  - compiled as C++ (no CUDA), for_each runs it on the host, one index after another. That is the emulated
//    device of DPHYS_CUDA_EMULATION builds, which lets CI check every kernel's indexing against the CPU
//    kernels without a GPU.
// Loop bodies are lambdas marked DPHYS_HOST_DEVICE; they capture device addresses and sizes by value.
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::device_kernel {

#if defined(__CUDACC__)

// Raises an Error naming `kernel` if its launch failed (engine/cuda/runtime_cuda.cpp).
void check_launch(const char* kernel);

template <class F>
__global__ void grid_stride_loop(std::int64_t n, F f) {
  const std::int64_t stride = std::int64_t(blockDim.x) * gridDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

template <class F>
void for_each(const char* kernel, std::int64_t n, F f) {
  if (n <= 0) return;
  constexpr int kBlock = 256;
  // Enough blocks to fill an H100/H200 several times over; the grid-stride loop covers the rest.
  constexpr std::int64_t kMaxBlocks = 132 * 32;
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  grid_stride_loop<<<static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks), kBlock>>>(n, f);
  check_launch(kernel);
}

#else

template <class F>
void for_each(const char*, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

#endif

// Scatter-adds in adjoint kernels, where several indices write one element. The emulated device runs one
// index at a time, so a plain add is atomic there.
template <class T>
DPHYS_HOST_DEVICE void atomic_add(T* address, T value) {
#if defined(__CUDA_ARCH__)
  atomicAdd(address, value);
#else
  *address += value;
#endif
}

// atomic_add as a callable, for code shared with the CPU that takes its scatter as a parameter.
struct AtomicAdd {
  template <class T>
  DPHYS_HOST_DEVICE void operator()(T* address, T value) const {
    atomic_add(address, value);
  }
};

}  // namespace dphys::device_kernel
