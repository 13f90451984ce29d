#pragma once
// Offsets of one element of a device_kernel::Indexing, inside a kernel.
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

template <int N>
DPHYS_HOST_DEVICE void offsets_of(const Indexing<N>& index, std::int64_t i, std::int64_t (&offsets)[N]) {
  for (int k = 0; k < N; ++k) offsets[k] = 0;
  for (int d = index.ndim - 1; d >= 0; --d) {
    const std::int64_t coordinate = i % index.shape[d];
    i /= index.shape[d];
    for (int k = 0; k < N; ++k) offsets[k] += coordinate * index.strides[k][d];
  }
}

template <int N>
std::int64_t element_count(const Indexing<N>& index) {
  std::int64_t n = 1;
  for (int d = 0; d < index.ndim; ++d) n *= index.shape[d];
  return n;
}

}  // namespace dphys::device_kernel
