#pragma once
// Gauss–Newton steps for B independent least-squares problems min ½‖r_b(x_b)‖² (pbdl_physgrad.md §1.4,
// hig.md §1.2 with κ = −1): Δx_b = −J_b⁺ r_b with J_b = ∂r_b/∂x_b and the pseudo-inverse from a thin SVD,
// truncated relative to the largest singular value.
#include <vector>

#include "autodiff/transforms.h"
#include "engine/tensor.h"

namespace dphys::optim {

struct GaussNewtonOptions {
  // τ: singular values s_k ≤ τ·s_1 are left out of J⁺ (zeroed, not clamped: hig.md §1.3 step 5, the
  // reference's relative cutoff). 1e-6 is hig.md's GN setting for the oscillators (N3).
  double rcond = 1e-6;
};

struct GaussNewtonStep {
  Tensor delta;           // [B, d]: Δx = −J⁺ r
  Tensor residual;        // [B, m]: r at x
  Tensor jacobian;        // [B, m, d]: ∂r_b/∂x_b
  std::vector<int> rank;  // singular values kept, per problem
};

// The per-problem Jacobians ∂f_b/∂x_b [B, m, d] of f: x [B, d] → [B, m], where row b of f(x) depends on row
// b of x only. m reverse passes: the Jacobian of Σ_b f_b(x) separates per problem. Nests like jacobian.
Tensor batched_jacobian(const UnaryFunction& f, const Tensor& x);

// Δx_b = −J_b⁺ r_b for jacobian [B, m, d] and residual [B, m], by SVD in f64; delta has the jacobian's dtype.
// The returned residual and jacobian are the inputs.
GaussNewtonStep gauss_newton_solve(const Tensor& jacobian, const Tensor& residual, double rcond = 1e-6);

// One Gauss–Newton step for the residuals r: x [B, d] → [B, m] at x (row b of r depends on row b of x only).
// The caller applies it: x ← x + η·delta (η = 1 in the book and in hig.md).
GaussNewtonStep gauss_newton_step(const UnaryFunction& residual, const Tensor& x,
                                  const GaussNewtonOptions& options = GaussNewtonOptions());

}  // namespace dphys::optim
