#pragma once
// Convolution kernels (cross-correlation) over [B, C, H, W] input and [O, C, KH, KW] weights; 1-D
// convolutions are the H = KH = 1 case. Padding is read on the fly: each batch entry is unfolded (im2col)
// from the padded image it stands for, never from a padded copy. On the CPU each batch entry goes into a
// per-thread buffer multiplied with one GEMM, so memory stays O(one image) rather than O(batch); on a device
// the whole batch is unfolded at once for batched GEMMs. The three kernels are each other's adjoints, for the
// same padding, which closes the set under differentiation.
#include "engine/tensor.h"

namespace dphys::kernel {

// `h` rows above and below the image and `w` columns left and right of it, reading zeros or, when
// `periodic`, the image wrapped around (any width: the wrap may go round more than once).
struct ConvPad {
  std::int64_t h = 0, w = 0;
  bool periodic = false;
};

// y[b, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x̄[b, c, i·s + p, j·s + q], x̄ the padded input
Tensor conv2d(const Tensor& x, const Tensor& w, std::int64_t stride, ConvPad pad = {});
// The adjoint of conv2d in x: the gradient with respect to an (unpadded) input of spatial size in_h × in_w.
Tensor conv2d_input_grad(const Tensor& g, const Tensor& w, std::int64_t stride, std::int64_t in_h,
                         std::int64_t in_w, ConvPad pad = {});
// The adjoint of conv2d in w: Σ_b g_b ⊗ unfold(x̄_b), for a kernel of size kh × kw.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, std::int64_t stride, std::int64_t kh,
                          std::int64_t kw, ConvPad pad = {});

}  // namespace dphys::kernel
