#pragma once
// The gradient of one max-pooling window, shared by the CPU loop (engine/max_pool.cpp) and the device kernel
// (engine/cuda/max_pool.cu).
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::kernel {

// The gradient of window w, whose top-left element is x[corner] in rows of length wd, the windows kh × kw and
// non-overlapping: dx = g · mask / count at each position, where mask marks the positions equal to the
// window's maximum y and count how many there are. Ties share the gradient equally, and a window whose
// maximum is NaN (count 0) gets NaN, the same arithmetic as the composed formula.
template <class T>
DPHYS_HOST_DEVICE void max_pool_window_backward_at(std::int64_t w, std::int64_t corner, std::int64_t wd,
                                                   std::int64_t kh, std::int64_t kw, const T* x, const T* y,
                                                   const T* g, T* dx) {
  T count = 0;
  for (std::int64_t p = 0; p < kh; ++p)
    for (std::int64_t q = 0; q < kw; ++q) count += T(x[corner + p * wd + q] == y[w]);
  for (std::int64_t p = 0; p < kh; ++p)
    for (std::int64_t q = 0; q < kw; ++q) {
      const std::int64_t at = corner + p * wd + q;
      dx[at] = g[w] * (T(x[at] == y[w]) / count);
    }
}

// The element where window w starts, x viewed as [images, h, wd] (rows past the last whole window are not
// pooled).
DPHYS_HOST_DEVICE inline std::int64_t max_pool_window_corner(std::int64_t w, std::int64_t h, std::int64_t wd,
                                                             std::int64_t kh, std::int64_t kw) {
  const std::int64_t out_h = h / kh, out_w = wd / kw;
  const std::int64_t image = w / (out_h * out_w), i = (w / out_w) % out_h, j = w % out_w;
  return (image * h + i * kh) * wd + j * kw;
}

}  // namespace dphys::kernel
