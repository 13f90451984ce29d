#include "solvers/heat.h"

#include "autodiff/fourier_ops.h"
#include "autodiff/ops.h"
#include "solvers/spectral.h"

namespace dphys {

Tensor heat_exact_2d(const Tensor& u, double nu, double t, double length_y, double length_x) {
  DPHYS_CHECK(u.dim() >= 2, "heat_exact_2d: expected [..., ny, nx], got shape {}", shape_str(u.shape()));
  DPHYS_CHECK(nu >= 0 && t >= 0, "heat_exact_2d: need nu >= 0 and t >= 0, got nu={} t={}", nu, t);
  const Tensor k2 = wavenumber_squared_2d(u.shape()[u.dim() - 2], u.shape().back(), length_y, length_x);
  return fourier_filter(u, exp(k2 * (-nu * t)), 2);
}

Tensor heat_exact_1d(const Tensor& u, double nu, double t, double length) {
  DPHYS_CHECK(u.dim() >= 1, "heat_exact_1d: expected [..., n], got shape {}", shape_str(u.shape()));
  DPHYS_CHECK(nu >= 0 && t >= 0, "heat_exact_1d: need nu >= 0 and t >= 0, got nu={} t={}", nu, t);
  const Tensor k = rfft_wavenumbers(u.shape().back(), length);
  return fourier_filter(u, exp(k * k * (-nu * t)), 1);
}

}  // namespace dphys
