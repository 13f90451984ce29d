#pragma once
// The SIP sine characterisation (../shared/experiments/sip.md §2.3): x ∈ R² maps through u = A·x,
// A = D·R_φ, D = diag(γ/ξ, γ·ξ), to P(x) = (sin u₁, u₂), with L = ½‖P(x) − y*‖². ξ sets the conditioning
// (curvature ratio ≈ ξ⁴), φ couples x₁ and x₂. SIP's physics update is a saddle-free Newton step from the
// closed-form gradient and Hessian (§2.3.2).
#include "optim/problem.h"

namespace dphys::app {

class SineProblem : public optim::PhysicsProblem {
 public:
  // phi in radians; gamma = 10 is the paper's global scale.
  SineProblem(double xi, double phi, double gamma = 10.0, double max_loss_change = 0.2);
  // x [B, 2] f64 -> P(x) [B, 2].
  Tensor forward(const Tensor& x) const override;
  // Saddle-free Newton Δx [B, 2] on L_b = ½‖P(x_b) − y*_b‖², capped along flat and negative-curvature
  // eigendirections at a first-order loss change of max_loss_change.
  Tensor inverse_update(const Tensor& x, const Tensor& y, const Tensor& target) const override;

  // ∂L/∂x [B, 2] and ∂²L/∂x² [B, 2, 2] in closed form: with r = P(x) − y*,
  // g = Aᵀ(r₁ cos u₁, r₂), H = Aᵀ·diag(cos²u₁ − r₁ sin u₁, 1)·A.
  Tensor gradient(const Tensor& x, const Tensor& target) const;
  Tensor hessian(const Tensor& x, const Tensor& target) const;

  // ‖x_b − x*_b‖₂ [B] to the exact solution closest to x_b: u₁* ∈ {asin y₁* + 2πn, π − asin y₁* + 2πn} with
  // the branch and n nearest the current u₁ (measured along u₁), u₂* = y₂*, x* = A⁻¹u*.
  std::vector<double> distance_to_solution(const Tensor& x, const Tensor& target) const;

 private:
  double a_[2][2];  // A = D·R_φ, row-major
  double max_loss_change_;
};

}  // namespace dphys::app
