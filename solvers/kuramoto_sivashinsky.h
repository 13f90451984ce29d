#pragma once
// The forced Kuramoto–Sivashinsky equation of the JPO paper (§8 of ../shared/experiments/jpo.md):
//   u_t = α·G(x) − u_xx − u_xxxx − β·u·u_x,  G(x) = 0.1·cos(x) − 0.01·cos(x/16)·(1 − 2·sin(x/16)),
// on a periodic domain, batched: u is [B, n], α and β are [B] (or scalars) and differentiable, as is u.
// Linear terms are integrated exactly in Fourier space (exponential time differencing).
#include <cmath>

#include "engine/tensor.h"

namespace dphys {

struct KuramotoSivashinskyConfig {
  std::int64_t n = 128;
  double length = 32 * M_PI;
  double dt = 0.25;
};

class KuramotoSivashinsky {
 public:
  // The solver's tables (forcing and Fourier multipliers) live on `device`, where u must be too.
  explicit KuramotoSivashinsky(const KuramotoSivashinskyConfig& config = {}, Device device = Device::cpu());

  // One ETD-RK2 (Cox–Matthews) step, the paper's scheme.
  Tensor step_etdrk2(const Tensor& u, const Tensor& alpha, const Tensor& beta) const;
  // One ETD-RK4 (Cox–Matthews, coefficients by the Kassam–Trefethen contour integral): accuracy reference.
  Tensor step_etdrk4(const Tensor& u, const Tensor& alpha, const Tensor& beta) const;
  // `steps` ETD-RK2 steps from u0.
  Tensor rollout(const Tensor& u0, const Tensor& alpha, const Tensor& beta, int steps) const;
  // N(u) = α·G − (β/2)·∂x(u²), the non-linear part (in real space).
  Tensor nonlinear(const Tensor& u, const Tensor& alpha, const Tensor& beta) const;

  const KuramotoSivashinskyConfig& config() const { return config_; }
  Device device() const { return device_; }
  const Tensor& forcing() const { return forcing_; }  // G(x_j), [n]

 private:
  void check(const Tensor& u) const;
  KuramotoSivashinskyConfig config_;
  Device device_;
  Tensor forcing_;
  // Fourier multipliers on the rfft bins, f64.
  Tensor e_, f1_, f2_;                // ETD-RK2: e^{c dt}, (e^z − 1)/c, (e^z − 1 − z)/(c² dt)
  Tensor e_half_, q_, g1_, g2_, g3_;  // ETD-RK4
};

}  // namespace dphys
