#include "solvers/spectral.h"

#include <cmath>

#include "autodiff/fourier_ops.h"
#include "autodiff/ops.h"
#include "engine/constant_cache.h"

namespace dphys {

namespace {

void check_length(const char* op, double length) {
  DPHYS_CHECK(length > 0 && std::isfinite(length), "{}: domain length must be positive, got {}", op, length);
}

}  // namespace

Tensor rfft_wavenumbers(std::int64_t n, double length) {
  check_length("rfft_wavenumbers", length);
  DPHYS_CHECK(n >= 1, "rfft_wavenumbers: need at least one point, got {}", n);
  return arange(0, static_cast<double>(n / 2 + 1), 1, DType::f64) * (2 * M_PI / length);
}

Tensor fft_wavenumbers(std::int64_t n, double length) {
  check_length("fft_wavenumbers", length);
  DPHYS_CHECK(n >= 1, "fft_wavenumbers: need at least one point, got {}", n);
  std::vector<double> k(n);
  for (std::int64_t j = 0; j < n; ++j)
    k[j] = 2 * M_PI * static_cast<double>(j < (n + 1) / 2 ? j : j - n) / length;
  return from_vector(k, {n}, DType::f64);
}

Tensor wavenumber_squared_2d(std::int64_t ny, std::int64_t nx, double length_y, double length_x,
                             Device device) {
  return cached_constant(fmt::format("wavenumber_squared_2d {} {} {:a} {:a}", ny, nx, length_y, length_x),
                         device, [&] {
                           const Tensor ky = reshape(fft_wavenumbers(ny, length_y), {ny, 1});
                           const Tensor kx = reshape(rfft_wavenumbers(nx, length_x), {1, nx / 2 + 1});
                           return ky * ky + kx * kx;
                         });
}

Tensor spectral_derivative(const Tensor& u, double length) {
  DPHYS_CHECK(u.dim() >= 1, "spectral_derivative: expected at least one axis, got shape {}",
              shape_str(u.shape()));
  const std::int64_t n = u.shape().back();
  const Tensor multiplier =
      cached_constant(fmt::format("spectral_derivative {} {:a}", n, length), u.device(), [&] {
        std::vector<double> k = rfft_wavenumbers(n, length).to_vector<double>();
        if (n % 2 == 0) k.back() = 0.0;  // the Nyquist mode's derivative is not real: drop it
        Tensor ik = zeros({n / 2 + 1}, DType::c128);
        for (std::int64_t j = 0; j < n / 2 + 1; ++j) ik.data<c128>()[j] = c128(0.0, k[j]);
        return ik;
      });
  return fourier_filter(u, multiplier, 1);
}

Tensor spectral_poisson_2d(const Tensor& f, double length_y, double length_x) {
  DPHYS_CHECK(f.dim() >= 2, "spectral_poisson_2d: expected [..., ny, nx], got shape {}",
              shape_str(f.shape()));
  const std::int64_t ny = f.shape()[f.dim() - 2], nx = f.shape().back();
  const Tensor inverse = cached_constant(
      fmt::format("spectral_poisson_2d {} {} {:a} {:a}", ny, nx, length_y, length_x), f.device(), [&] {
        Tensor k2 = wavenumber_squared_2d(ny, nx, length_y, length_x).clone();  // the cached one is shared
        double* values = k2.data<double>();
        for (std::int64_t i = 0; i < k2.numel(); ++i) values[i] = values[i] == 0.0 ? 0.0 : -1.0 / values[i];
        return k2;
      });
  return fourier_filter(f, inverse, 2);
}

}  // namespace dphys
