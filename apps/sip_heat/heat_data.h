#pragma once
// The SIP heat experiment's problem (../shared/experiments/sip.md §2.5.1): P(x) = exact diffusion with
// ν·t = 8 on a 64×64 periodic grid, in f64. Its data x* come from sip_heat_sources (solvers/heat_sources.h).
#include "engine/tensor.h"
#include "optim/problem.h"

namespace dphys::app {

constexpr std::int64_t kHeatGrid = 64;
constexpr double kHeatNuT = 8.0;

class HeatProblem : public optim::PhysicsProblem {
 public:
  // x [B, 64, 64] f64 -> y [B, 64, 64]: û · exp(−|k|²·ν t) on unit cells.
  Tensor forward(const Tensor& x) const override;
  // The damped inverse of §2.5.2 applied to the residual y* − y.
  Tensor inverse_update(const Tensor& x, const Tensor& y, const Tensor& target) const override;
};

// Mean over the batch of ‖x_b − x*_b‖₁ summed over the grid (the spec's x-space error).
double heat_error(const Tensor& x, const Tensor& x_star);

}  // namespace dphys::app
