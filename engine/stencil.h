#pragma once
// Fused finite-difference stencils on cell-centred grids over the last one or two axes.
#include "engine/tensor.h"

namespace dphys {

// What lies beyond the grid: the periodic continuation, zeros (homogeneous Dirichlet: the ghost cell is 0),
// or a copy of the edge cell (homogeneous Neumann: zero normal derivative). With each of these the discrete
// Laplacian is symmetric, so it is its own adjoint.
enum class Boundary { periodic, dirichlet, neumann };

}  // namespace dphys

namespace dphys::kernel {

// 5-point (2-D, last two axes, spacings dy, dx) or 3-point (1-D, last axis, spacing dx) Laplacian.
Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary);

}  // namespace dphys::kernel
