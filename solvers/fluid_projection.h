#pragma once
// Pressure projection (Helmholtz decomposition) of a staggered velocity on the fluid cells of a MAC grid.
#include "solvers/fluid_masks.h"
#include "solvers/linear_solve.h"

namespace dphys {

struct Projection {
  StaggeredField velocity;  // divergence-free on the fluid cells, zero on closed faces
  // The pressure p of v ← v − ∇p (Δt absorbed into p), with no gradient history: it is the warm start of the
  // next solve. Periodic and closed domains fix it only up to a constant.
  Tensor pressure;
};

// Solves D O Dᵀ p = −∇·(O v) on the fluid cells with the differentiable CG linear_solve (implicit adjoint),
// where D is the face-to-cell divergence and O the open-face mask, then subtracts O ∇p. Obstacle cells are
// no unknowns: every face of theirs is closed, and their rows are the identity. Warm-started from
// `pressure_guess` ([B, ny, nx]) when defined. `options.zero_mean` is ignored: periodic and closed domains
// instead remove the fluid-cell mean of the right-hand side (its round-off).
Projection make_incompressible(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                               CgOptions options = {}, const Tensor& pressure_guess = Tensor(),
                               CgResult* info = nullptr);

}  // namespace dphys
