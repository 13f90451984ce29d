#pragma once
// The heat equation ∂u/∂t = ν∇²u on periodic grids.
#include "engine/tensor.h"

namespace dphys {

// Exact spectral solution after time t: û(k) · exp(−ν|k|²t) over the last two axes ([..., ny, nx] on
// [0, length_y) × [0, length_x)). Differentiable in u; f64 or f32.
Tensor heat_exact_2d(const Tensor& u, double nu, double t, double length_y, double length_x);
// The same for 1-D fields [..., n] on [0, length).
Tensor heat_exact_1d(const Tensor& u, double nu, double t, double length);

}  // namespace dphys
