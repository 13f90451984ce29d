#pragma once
// Newton and saddle-free Newton steps for B independent problems with few unknowns each (pbdl_physgrad.md
// §1.3; sip.md §1.8.1 strategy 1 and §2.3.2). The Hessian is the Jacobian of the gradient (d reverse passes
// through the recorded gradient); each problem's d×d Hessian is eigendecomposed in f64.
#include <limits>

#include "optim/line_search.h"

namespace dphys::optim {

// f [B], ∇f [B, d] and ∇²f [B, d, d] of B problems at x [B, d].
struct BatchedDerivatives {
  Tensor loss;
  Tensor grad;
  Tensor hessian;
};

// Row b of f(x) may depend on row b of x only (as for the line search).
BatchedDerivatives batched_hessian(const BatchedObjective& f, const Tensor& x);

struct NewtonOptions {
  // λ ≥ 0: the step solves (H + λI)Δx = −g (Levenberg damping; 0 is the plain Newton step).
  double damping = 0.0;
  // Eigenvalues s of H + λI with |s| ≤ rcond·max|s| are left out (a pseudo-inverse), so a singular Hessian
  // gives the minimum-norm step rather than infinities.
  double rcond = 1e-12;
};

// The saddle-free Newton step of Dauphin et al. 2014, Δx = −|H|⁻¹g, with |H| = V·diag(|s|)·Vᵀ from H =
// V·diag(s)·Vᵀ, and the SIP sine solver's per-eigendirection cap (sip.md §2.3.2). In the eigenbasis, with
// g_e = Vᵀg and curvature c_e = max(|s_e| + damping, min_curvature):
//   |Δ_e| = |g_e| / c_e (0 where c_e = 0);
//   where s_e ≤ s_avg = (Π_e |s_e|)^{1/d} (flat or negative curvature): |Δ_e| ← min(|Δ_e|,
//   max_loss_change/|g_e|),
//     which bounds the first-order loss decrease along that direction by max_loss_change;
//   Δ_e = −sign(g_e)·|Δ_e|, so every component points downhill; Δx = V·Δ.
// With the defaults this is exactly −|H|⁻¹g, and −H⁻¹g where H is positive definite (sip.md §3.3 check 5).
struct SaddleFreeOptions {
  double damping = 0.0;
  double min_curvature = 0.0;
  // The cap c; the SIP sine experiment uses 0.2 (the reference's "max_loss_change"). Infinite: no cap.
  double max_loss_change = std::numeric_limits<double>::infinity();
};

// Δx = −(H + λI)⁻¹g per problem, for grad [B, d] and hessian [B, d, d] (symmetrised first); the grad's dtype.
Tensor newton_direction(const Tensor& grad, const Tensor& hessian,
                        const NewtonOptions& options = NewtonOptions());
Tensor saddle_free_newton_direction(const Tensor& grad, const Tensor& hessian,
                                    const SaddleFreeOptions& options = SaddleFreeOptions());

struct NewtonStep {
  Tensor delta;  // [B, d]; the caller applies x ← x + η·delta
  BatchedDerivatives at;
};

NewtonStep newton_step(const BatchedObjective& f, const Tensor& x,
                       const NewtonOptions& options = NewtonOptions());
NewtonStep saddle_free_newton_step(const BatchedObjective& f, const Tensor& x,
                                   const SaddleFreeOptions& options = SaddleFreeOptions());

}  // namespace dphys::optim
