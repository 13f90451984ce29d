#pragma once
// Data of the SIP heat experiment (../shared/experiments/sip.md §2.5.3): 4–10 heat-generating rectangles on a
// 64×64 periodic grid, and the problem P(x) = exact diffusion with ν·t = 8 (§2.5.1), in f64.
#include "engine/random.h"
#include "engine/tensor.h"
#include "optim/problem.h"

namespace dphys::app {

constexpr std::int64_t kHeatGrid = 64;
constexpr double kHeatNuT = 8.0;

// A batch of x* [B, 64, 64] (f64): per example n = int(4 + 7U) of 10 candidate boxes get strength U[0, 1);
// centres U[6.4, 57.6]², half-sizes U[0, 10)² clipped inside the domain; antialiased masks (each cell takes
// the fraction of its area inside the box); overlapping boxes add.
Tensor heat_sources(std::int64_t batch, Generator& gen);

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
