#pragma once
// The advection of one field (fluid_advection.h) as a fused kernel: every sample point is traced, sampled
// and, for MacCormack, corrected and limited in one pass per stage, and the adjoint walks the same stages
// backwards, scattering into the field and velocity cotangents. No intermediate tensor is made or taped.
//
// Positions, weights and accumulators are f64 whatever the fields' dtype. Examples run in parallel; the
// points of one example run in sequence, because the adjoint's scatters of neighbouring points collide.
#include <array>

#include "solvers/fluid_advection.h"

namespace dphys::kernel {

// The same values as the op-by-op advect of fluid_advection.h. The caller checks shapes and dtypes.
Tensor advect(const Tensor& q, Staggering staggering, const StaggeredField& velocity, const Grid2D& grid,
              double dt, const AdvectionOptions& options);

// Cotangents {q̄, v̄_x, v̄_y} of advect's inputs for the output cotangent g. The min/max limiter's ties go
// where the op-by-op version sends them (maximum to its first operand on ≥, minimum on ≤), so both give
// the same gradient everywhere.
std::array<Tensor, 3> advect_adjoint(const Tensor& g, const Tensor& q, Staggering staggering,
                                     const StaggeredField& velocity, const Grid2D& grid, double dt,
                                     const AdvectionOptions& options);

}  // namespace dphys::kernel
