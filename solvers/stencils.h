#pragma once
// Differentiable stencil operators on cell-centred grids.
#include "engine/stencil.h"
#include "engine/tensor.h"

namespace dphys {

// ∇²x over the last `dims` axes (1 or 2) with spacings dy, dx (dy unused in 1-D). Self-adjoint: its VJP is
// itself.
Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary);

}  // namespace dphys
