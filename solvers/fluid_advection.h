#pragma once
// Semi-Lagrangian and MacCormack advection of centred scalars (a passive marker) and of staggered velocity
// on the MAC grid, batched and differentiable in the advected field and in the velocity.
#include "engine/tensor.h"
#include "solvers/fluid_sampling.h"
#include "solvers/grid.h"

namespace dphys {

enum class AdvectionScheme {
  // q(p) ← q(p − Δt·v): first order, diffusive, unconditionally stable.
  semi_lagrangian,
  // Selle et al. 2008: a semi-Lagrangian step, the error estimated by stepping back again, half of it
  // added back (correction strength 1), then clamped to the min/max of the four values the first step
  // interpolated from, as PhiFlow's mac_cormack does. Second order where the limiter is inactive.
  mac_cormack,
};

// How a sample point is traced along the velocity: explicit Euler, or the explicit midpoint rule (RK2).
enum class BackTrace { euler, rk2 };

struct AdvectionOptions {
  AdvectionScheme scheme = AdvectionScheme::semi_lagrangian;
  BackTrace trace = BackTrace::euler;
};

// Advects field q (samples laid out as `staggering`, [B, ny', nx']) by `velocity` for time dt. One fused
// op (solvers/fluid_advection_kernel.h) with a hand-written adjoint; its higher derivatives come from
// advect_composed.
Tensor advect(const Tensor& q, Staggering staggering, const StaggeredField& velocity, const Grid2D& grid,
              double dt, const AdvectionOptions& options = {});
// The same advection composed of differentiable tensor ops (fluid_sampling.h): differentiable to any
// order, but it tapes a few hundred ops per call.
Tensor advect_composed(const Tensor& q, Staggering staggering, const StaggeredField& velocity,
                       const Grid2D& grid, double dt, const AdvectionOptions& options = {});
// Advects both components of `field` (self-advection when field is velocity); both are carried by the same
// `velocity`.
StaggeredField advect(const StaggeredField& field, const StaggeredField& velocity, const Grid2D& grid,
                      double dt, const AdvectionOptions& options = {});

}  // namespace dphys
