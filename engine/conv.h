#pragma once
// Convolution kernels (cross-correlation, no padding: pad the input first) over [B, C, H, W] input and
// [O, C, KH, KW] weights; 1-D convolutions are the H = KH = 1 case. Each batch entry is unfolded (im2col)
// into a per-thread buffer and multiplied with one GEMM, so memory stays O(one image) rather than O(batch).
// The three kernels are each other's adjoints, which closes the set under differentiation.
#include "engine/tensor.h"

namespace dphys::kernel {

// y[b, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x[b, c, i·s + p, j·s + q]
Tensor conv2d(const Tensor& x, const Tensor& w, std::int64_t stride);
// The adjoint of conv2d in x: the gradient with respect to an input of spatial size in_h × in_w.
Tensor conv2d_input_grad(const Tensor& g, const Tensor& w, std::int64_t stride, std::int64_t in_h,
                         std::int64_t in_w);
// The adjoint of conv2d in w: Σ_b g_b ⊗ unfold(x_b), for a kernel of size kh × kw.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, std::int64_t stride, std::int64_t kh,
                          std::int64_t kw);

}  // namespace dphys::kernel
