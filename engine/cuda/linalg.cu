// The device kernels of engine/linalg.cpp that are not library calls.
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void symmetrize_typed(std::int64_t n, T* c) {
  // Column-major: (i, j) at i + j·n; the upper triangle i < j takes (j, i).
  for_each("symmetrize", n * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t i = idx % n, j = idx / n;
    if (i < j) c[idx] = c[j + i * n];
  });
}

}  // namespace

void symmetrize_lower(DType dtype, std::int64_t n, void* c) {
  if (dtype == DType::f32) return symmetrize_typed(n, static_cast<float*>(c));
  symmetrize_typed(n, static_cast<double*>(c));
}

}  // namespace dphys::device_kernel
