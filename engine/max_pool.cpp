#include "engine/max_pool.h"

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/device_kernels.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/max_pool_window.h"
#include "engine/parallel.h"

namespace dphys::kernel {

Tensor max_pool_backward(const Tensor& x, const Tensor& y, const Tensor& g, std::int64_t kh,
                         std::int64_t kw) {
  DPHYS_CHECK(x.dim() == 4 && kh >= 1 && kw >= 1,
              "max_pool_backward: expected x [B, C, H, W] and windows >= 1, got {} and {}x{}",
              shape_str(x.shape()), kh, kw);
  const Shape pooled{x.shape()[0], x.shape()[1], x.shape()[2] / kh, x.shape()[3] / kw};
  DPHYS_CHECK(y.shape() == pooled && g.shape() == pooled,
              "max_pool_backward: x {} with {}x{} windows pools to {}, got y {} and gradient {}",
              shape_str(x.shape()), kh, kw, shape_str(pooled), shape_str(y.shape()), shape_str(g.shape()));
  DPHYS_CHECK(x.dtype() == y.dtype() && x.dtype() == g.dtype() &&
                  (x.dtype() == DType::f32 || x.dtype() == DType::f64),
              "max_pool_backward: x, y and the gradient must share one real dtype, got {}, {} and {}",
              dtype_name(x.dtype()), dtype_name(y.dtype()), dtype_name(g.dtype()));
  check_same_device("max_pool_backward", x, y);
  check_same_device("max_pool_backward", x, g);
  const std::int64_t h = x.shape()[2], w = x.shape()[3], windows = shape_numel(pooled);
  Tensor dx = zeros_like(x);  // the rows and columns past the last whole window stay zero
  if (windows == 0) return dx;
  if (!x.device().is_cpu()) {
    device_kernel::max_pool_backward(x.dtype(), windows, h, w, kh, kw, device_address(x), device_address(y),
                                     device_address(g), device_address(dx));
    return dx;
  }
  dispatch_real(x.dtype(), "max_pool_backward", [&](auto t) {
    using T = decltype(t);
    const T *px = x.data<T>(), *py = y.data<T>(), *pg = g.data<T>();
    T* pdx = dx.data<T>();
    // One task per row of windows, so that the corners follow by addition instead of three integer
    // divisions per window (which cost more than the window's own work for 2 × 2 pooling).
    const std::int64_t out_w = w / kw, window_rows = windows / out_w, out_h = h / kh;
    parallel_for(window_rows, out_w * kh * kw, [&](std::int64_t row) {
      const std::int64_t corner = ((row / out_h) * h + (row % out_h) * kh) * w;
      for (std::int64_t j = 0; j < out_w; ++j)
        max_pool_window_backward_at(row * out_w + j, corner + j * kw, w, kh, kw, px, py, pg, pdx);
    });
  });
  return dx;
}

}  // namespace dphys::kernel
