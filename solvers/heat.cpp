#include "solvers/heat.h"

#include <cmath>

#include "autodiff/grad_mode.h"
#include "engine/fft.h"
#include "solvers/stencils.h"

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

Tensor heat_implicit_step(const Tensor& u, double nu, double dt, const Grid2D& grid,
                          const CgOptions& options) {
  DPHYS_CHECK(nu >= 0 && dt >= 0, "heat_implicit_step: need nu >= 0 and dt >= 0, got nu={} dt={}", nu, dt);
  const double c = nu * dt;
  const ParametrisedOperator a = [c, grid](const Tensor& x, const std::vector<Tensor>&) {
    return x - c * laplacian(x, grid);
  };
  return linear_solve(a, u, {}, options, u);
}

Tensor heat_damped_inverse(const Tensor& residual, double nu_t, double length_y, double length_x,
                           double noise, double signal_scale) {
  DPHYS_CHECK(residual.dim() == 3, "heat_damped_inverse: expected residuals [B, ny, nx], got {}",
              shape_str(residual.shape()));
  NoGradGuard no_grad;
  const std::int64_t batch = residual.shape()[0], ny = residual.shape()[1], nx = residual.shape()[2];
  const Tensor r = cast(residual, DType::f64);
  // The per-bin decision runs on the host: a spectrum computed on a device makes a round trip.
  Tensor spectrum = kernel::rfft2(r).to(Device::cpu());
  const std::vector<double> norms = sqrt(sum(r * r, {1, 2})).to_vector<double>();
  const std::vector<double> k2 = wavenumber_squared_2d(ny, nx, length_y, length_x).to_vector<double>();
  const std::int64_t bins = ny * (nx / 2 + 1);
  c128* s = spectrum.data<c128>();
  for (std::int64_t b = 0; b < batch; ++b) {
    const double sigma_n = noise * norms[b];
    for (std::int64_t i = 0; i < bins; ++i) {
      const double gain_exponent = nu_t * k2[i];  // ℓ
      const double sigma_s = signal_scale * std::exp(-gain_exponent);
      const double amplitude = std::abs(s[b * bins + i]);
      double likelihood_signal = 0.5 * std::exp(-0.5 * std::pow(amplitude / sigma_s, 2));
      if (!std::isfinite(likelihood_signal)) likelihood_signal = 0.0;
      const double likelihood_noise = 0.5 * std::exp(-0.5 * std::pow(amplitude / sigma_n, 2));
      const double total = likelihood_signal + likelihood_noise;
      const double p = total > 0 ? likelihood_signal / total : 0.0;
      // Invert where p is high, diffuse once more where it is low, leave the undecided band alone.
      const double action = (p <= 0.5 || p >= 0.68) ? 2 * (p - 0.5) : 0.0;
      s[b * bins + i] *= std::exp(gain_exponent * action);
    }
  }
  return cast(kernel::irfft2(spectrum.to(residual.device()), nx), residual.dtype());
}

}  // namespace dphys
