// Device kernels of engine/conv.cpp: the unfolding (im2col) of a whole batch and its adjoint; the products
// around them are GEMMs (engine/matmul.cpp).
#include "engine/conv_padding.h"
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void unfold_typed(const ConvShape& g, const T* x, T* cols) {
  const std::int64_t rows = g.channels * g.kh * g.kw, n = g.out_h * g.out_w;
  for_each("unfold", g.batch * rows * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / (rows * n), r = (idx / n) % rows, k = idx % n;
    const std::int64_t c = r / (g.kh * g.kw), p = (r / g.kw) % g.kh, q = r % g.kw;
    const std::int64_t i = k / g.out_w, j = k % g.out_w;
    const std::int64_t y = kernel::padded_source(i * g.stride + p, g.pad_h, g.in_h, g.periodic);
    const std::int64_t xx = kernel::padded_source(j * g.stride + q, g.pad_w, g.in_w, g.periodic);
    cols[idx] = y < 0 || xx < 0 ? T(0) : x[((b * g.channels + c) * g.in_h + y) * g.in_w + xx];
  });
}

template <class T>
void fold_typed(const ConvShape& g, const T* cols, T* x) {
  const std::int64_t rows = g.channels * g.kh * g.kw, n = g.out_h * g.out_w;
  const std::int64_t padded_h = g.in_h + 2 * g.pad_h, padded_w = g.in_w + 2 * g.pad_w;
  for_each("fold", g.batch * g.channels * g.in_h * g.in_w, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t px = idx % g.in_w, py = (idx / g.in_w) % g.in_h;
    const std::int64_t c = (idx / (g.in_w * g.in_h)) % g.channels, b = idx / (g.in_w * g.in_h * g.channels);
    // The padded positions that read (py, px): the pixel itself, and with periodic padding its copies one
    // image size apart.
    const std::int64_t first_y = g.periodic ? (py + g.pad_h) % g.in_h : py + g.pad_h;
    const std::int64_t first_x = g.periodic ? (px + g.pad_w) % g.in_w : px + g.pad_w;
    const std::int64_t step_y = g.periodic ? g.in_h : padded_h, step_x = g.periodic ? g.in_w : padded_w;
    T acc = 0;
    for (std::int64_t vy = first_y; vy < padded_h; vy += step_y)
      for (std::int64_t p = 0; p < g.kh; ++p) {
        const std::int64_t dy = vy - p;
        if (dy < 0 || dy % g.stride != 0 || dy / g.stride >= g.out_h) continue;
        for (std::int64_t vx = first_x; vx < padded_w; vx += step_x)
          for (std::int64_t q = 0; q < g.kw; ++q) {
            const std::int64_t dx = vx - q;
            if (dx < 0 || dx % g.stride != 0 || dx / g.stride >= g.out_w) continue;
            acc +=
                cols[(b * rows + (c * g.kh + p) * g.kw + q) * n + (dy / g.stride) * g.out_w + dx / g.stride];
          }
      }
    x[idx] = acc;
  });
}

}  // namespace

void unfold(DType dtype, const ConvShape& shape, const void* x, void* cols) {
  if (dtype == DType::f32)
    return unfold_typed(shape, static_cast<const float*>(x), static_cast<float*>(cols));
  unfold_typed(shape, static_cast<const double*>(x), static_cast<double*>(cols));
}

void fold(DType dtype, const ConvShape& shape, const void* cols, void* x) {
  if (dtype == DType::f32) return fold_typed(shape, static_cast<const float*>(cols), static_cast<float*>(x));
  fold_typed(shape, static_cast<const double*>(cols), static_cast<double*>(x));
}

}  // namespace dphys::device_kernel
