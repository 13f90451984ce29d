#include "solvers/heat.h"

#include <cmath>

#include "autodiff/fourier_ops.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "engine/constant_cache.h"
#include "engine/device_dispatch.h"
#include "engine/fft.h"
#include "engine/parallel.h"
#include "solvers/heat_device.h"
#include "solvers/spectral.h"
#include "solvers/stencils.h"

namespace dphys {

Tensor heat_exact_2d(const Tensor& u, double nu, double t, double length_y, double length_x) {
  DPHYS_CHECK(u.dim() >= 2, "heat_exact_2d: expected [..., ny, nx], got shape {}", shape_str(u.shape()));
  // Finite too: ν·t = ∞ made the k = 0 mode 0·∞ = NaN and with it the whole field.
  DPHYS_CHECK(nu >= 0 && t >= 0 && std::isfinite(nu * t),
              "heat_exact_2d: need finite nu >= 0 and t >= 0, got nu={} t={}", nu, t);
  const Tensor k2 =
      wavenumber_squared_2d(u.shape()[u.dim() - 2], u.shape().back(), length_y, length_x, u.device());
  return fourier_filter(u, exp(k2 * (-nu * t)), 2);
}

Tensor heat_exact_1d(const Tensor& u, double nu, double t, double length) {
  DPHYS_CHECK(u.dim() >= 1, "heat_exact_1d: expected [..., n], got shape {}", shape_str(u.shape()));
  DPHYS_CHECK(nu >= 0 && t >= 0 && std::isfinite(nu * t),
              "heat_exact_1d: need finite nu >= 0 and t >= 0, got nu={} t={}", nu, t);
  const std::int64_t n = u.shape().back();
  const Tensor k = cached_constant(fmt::format("rfft_wavenumbers {} {:a}", n, length), u.device(),
                                   [&] { return rfft_wavenumbers(n, length); });
  return fourier_filter(u, exp(k * k * (-nu * t)), 1);
}

Tensor heat_implicit_step(const Tensor& u, double nu, double dt, const Grid2D& grid,
                          const CgOptions& options) {
  DPHYS_CHECK(nu >= 0 && dt >= 0 && std::isfinite(nu * dt),
              "heat_implicit_step: need finite nu >= 0 and dt >= 0, got nu={} dt={}", nu, dt);
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
  DPHYS_CHECK(nu_t >= 0 && std::isfinite(nu_t) && noise >= 0 && std::isfinite(noise) && signal_scale > 0 &&
                  std::isfinite(signal_scale),
              "heat_damped_inverse: need finite nu_t >= 0, noise >= 0 and signal_scale > 0, got {}, {}, {}",
              nu_t, noise, signal_scale);
  NoGradGuard no_grad;
  const std::int64_t batch = residual.shape()[0], ny = residual.shape()[1], nx = residual.shape()[2];
  const Tensor r = cast(residual, DType::f64);
  const Tensor spectrum = kernel::rfft2(r);  // [B, ny, nx/2 + 1], c128, on the residual's device
  const Tensor gain_exponents =
      wavenumber_squared_2d(ny, nx, length_y, length_x, residual.device()) * nu_t;  // ℓ per bin
  const Tensor noise_levels = sqrt(sum(r * r, {1, 2})) * noise;                     // σ_n per example
  const damped_inverse::Bins bins{ny * (nx / 2 + 1), device_data<double>(gain_exponents),
                                  device_data<double>(noise_levels), signal_scale};
  auto* values = static_cast<double*>(device_address(spectrum));  // interleaved re, im
  if (residual.device().is_cpu())
    parallel_for(batch * bins.bins, 256, [&](std::int64_t i) { damped_inverse::apply(bins, i, values); });
  else
    device_kernel::damped_inverse(bins, batch, values);
  return cast(kernel::irfft2(spectrum, nx), residual.dtype());
}

}  // namespace dphys
