#pragma once
// The heat equation ∂u/∂t = ν∇²u on periodic grids.
#include "engine/tensor.h"
#include "solvers/grid.h"
#include "solvers/linear_solve.h"

namespace dphys {

// Exact spectral solution after time t: û(k) · exp(−ν|k|²t) over the last two axes ([..., ny, nx] on
// [0, length_y) × [0, length_x)). Differentiable in u; f64 or f32.
Tensor heat_exact_2d(const Tensor& u, double nu, double t, double length_y, double length_x);
// The same for 1-D fields [..., n] on [0, length).
Tensor heat_exact_1d(const Tensor& u, double nu, double t, double length);

// One backward-Euler step (I − ν dt ∇²) u_new = u with the 5-point Laplacian, by CG: unconditionally stable,
// for any boundary of the grid. Differentiable in u (the adjoint is a second CG solve).
Tensor heat_implicit_step(const Tensor& u, double nu, double dt, const Grid2D& grid,
                          const CgOptions& options = {});

// The SIP paper's damped inverse of exact heat diffusion (../shared/experiments/sip.md §2.5.2, all in f64):
// for each example's residual r = y* − P(x) it inverts the diffusion (gain e^{+ℓ}) at frequencies where r is
// more likely signal than noise, applies one more forward diffusion (gain e^{−ℓ}) where it is noise, and
// leaves the rest; ℓ = ν t |k|². `noise` is ε in σ_n = ε‖r‖₂ and `signal_scale` the N in σ_s = N e^{−ℓ}
// (the grid side in the paper). Returns Δx with x + Δx the SIP target. Not differentiable (SIP stops the
// gradient there).
Tensor heat_damped_inverse(const Tensor& residual, double nu_t, double length_y, double length_x,
                           double noise = 1e-6, double signal_scale = 64.0);

}  // namespace dphys
