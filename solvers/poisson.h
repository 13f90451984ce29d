#pragma once
// Poisson's equation ∇²φ = f on cell-centred grids, by conjugate gradients (solvers/linear_solve.h).
#include "engine/stencil.h"
#include "solvers/linear_solve.h"

namespace dphys {

// Solves ∇²φ = f over the last `dims` axes of f ([B, ..., ny, nx] or [B, ..., n]), batched over axis 0, with
// the boundary of engine/stencil.h. CG runs on the positive (semi-)definite −∇²; periodic and Neumann
// boundaries make it singular on constants, so those solves drop the mean of f and return zero-mean φ.
// Differentiable in f (the adjoint is a second CG solve).
Tensor solve_poisson(const Tensor& f, int dims, double dy, double dx, Boundary boundary,
                     CgOptions options = {}, const Tensor& x0 = Tensor(), CgResult* info = nullptr);

}  // namespace dphys
