#pragma once
// Viscous diffusion ∂v/∂t = ν∇²v of a staggered velocity, per component, on the open faces. Along a wall
// the tangential component sees a zero-gradient (free-slip) ghost; the normal component sees the closed
// face's zero.
#include "solvers/fluid_masks.h"
#include "solvers/linear_solve.h"

namespace dphys {

// One forward-Euler step v + νΔt·O∇²(O v). Raises when νΔt(2/Δx² + 2/Δy²) > 1, where it would be unstable.
StaggeredField diffuse_explicit(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                                double viscosity, double dt);
// One backward-Euler step: solves (I − νΔt·O∇²O) v' = v with the differentiable CG linear_solve.
// Unconditionally stable.
StaggeredField diffuse_implicit(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                                double viscosity, double dt, const CgOptions& options = {});

}  // namespace dphys
