// Device kernel of engine/max_pool.cpp: one thread per pooling window, writing only its own window.
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"
#include "engine/max_pool_window.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void max_pool_backward_typed(std::int64_t windows, std::int64_t h, std::int64_t w, std::int64_t kh,
                             std::int64_t kw, const T* x, const T* y, const T* g, T* dx) {
  for_each("max_pool_backward", windows, [=] DPHYS_HOST_DEVICE(std::int64_t window) {
    kernel::max_pool_window_backward_at(window, kernel::max_pool_window_corner(window, h, w, kh, kw), w, kh,
                                        kw, x, y, g, dx);
  });
}

}  // namespace

void max_pool_backward(DType dtype, std::int64_t windows, std::int64_t h, std::int64_t w, std::int64_t kh,
                       std::int64_t kw, const void* x, const void* y, const void* g, void* dx) {
  if (dtype == DType::f32)
    return max_pool_backward_typed(windows, h, w, kh, kw, static_cast<const float*>(x),
                                   static_cast<const float*>(y), static_cast<const float*>(g),
                                   static_cast<float*>(dx));
  max_pool_backward_typed(windows, h, w, kh, kw, static_cast<const double*>(x), static_cast<const double*>(y),
                          static_cast<const double*>(g), static_cast<double*>(dx));
}

}  // namespace dphys::device_kernel
