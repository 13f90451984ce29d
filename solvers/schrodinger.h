#pragma once
// The controlled quantum dipole of the HIG paper (../shared/experiments/hig.md §2.4):
//   i ∂_t Ψ = (−Δ + u(t)·x) Ψ  in an infinite square well on [0, length], Ψ = 0 at the walls,
// on `points` grid points including both walls (Δx = length/(points − 1)); the points − 2 interior values
// ψ_j at x_j = j·Δx (from the left wall, hig.md A14) are the unknowns. Crank–Nicolson with a piecewise
// constant control, step k using u_k (plain CN as in the reference, hig.md A12):
//   (I + iΔt/2·H_k) ψ^{k+1} = (I − iΔt/2·H_k) ψ^k,  (H_k ψ)_j = −(ψ_{j+1} − 2ψ_j + ψ_{j−1})/Δx² + u_k x_j
//   ψ_j,
// one complex tridiagonal solve (Thomas algorithm) per step. The scheme is unitary: Σ_j |ψ_j|² is conserved.
// Units: ħ = 1 and 2m = 1; the discrete norm carries no Δx factor (hig.md A15). Defaults: 16 points on [0,
// 2], Δt = 0.05, 384 steps (T = 19.2).
//
// Complex wave functions are real tensors [B, 2, n] (n = points − 2): channel 0 holds Re ψ, channel 1 Im ψ,
// the layout of the paper's network input. f32 or f64; the solver runs in f64.
#include <cstdint>

#include "engine/tensor.h"

namespace dphys {

struct SchrodingerConfig {
  std::int64_t points = 16;
  double length = 2.0;
  double dt = 0.05;
};

// ψ_0..ψ_steps from psi [B, 2, n] under controls [B, steps]: [B, steps + 1, 2, n]. One recorded op whose
// backward is the discrete adjoint of CN (a CN step backwards in time, plus the control term). Its gradient
// is first-order only: differentiating it again (grad of grad, jvp, hvp) is an error.
Tensor schrodinger_trajectory(const Tensor& psi, const Tensor& controls,
                              const SchrodingerConfig& config = {});
// The final state ψ_steps [B, 2, n] of schrodinger_trajectory.
Tensor schrodinger_rollout(const Tensor& psi, const Tensor& controls, const SchrodingerConfig& config = {});
// The discrete eigenstate φ_level(j) = sin(π·level·j/(points − 1)), j = 1..points − 2, with Σ_j φ_j² = 1, as
// [2, n] (imaginary part 0). Its energy is (4/Δx²)·sin²(π·level/(2(points − 1))).
Tensor square_well_eigenstate(int level, const SchrodingerConfig& config = {}, DType dtype = DType::f64);

}  // namespace dphys
