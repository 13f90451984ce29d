#include "solvers/kuramoto_sivashinsky.h"

#include <cmath>
#include <complex>
#include <functional>
#include <vector>

#include "autodiff/fourier_ops.h"
#include "autodiff/ops.h"
#include "solvers/spectral.h"

namespace dphys {

namespace {

using Complex = std::complex<double>;

// φ(z) for every bin by the Kassam–Trefethen contour integral: the mean of φ over 32 points on the unit
// circle around z. Stable where the closed forms cancel catastrophically (small |z|).
Tensor contour_mean(const std::vector<double>& z, const std::function<Complex(Complex)>& phi) {
  constexpr int kPoints = 32;
  std::vector<double> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    Complex sum = 0.0;
    for (int j = 1; j <= kPoints; ++j) sum += phi(z[i] + std::exp(Complex(0.0, M_PI * (j - 0.5) / kPoints)));
    out[i] = sum.real() / kPoints;
  }
  return from_vector(out, {static_cast<std::int64_t>(z.size())}, DType::f64);
}

// Per-example parameters broadcast against [B, n].
Tensor as_column(const Tensor& p, const char* name) {
  DPHYS_CHECK(p.dim() <= 1, "KuramotoSivashinsky: {} must be a scalar or [B], got shape {}", name,
              shape_str(p.shape()));
  return p.dim() == 0 ? p : unsqueeze(p, 1);
}

}  // namespace

KuramotoSivashinsky::KuramotoSivashinsky(const KuramotoSivashinskyConfig& config, Device device)
    : config_(config), device_(device) {
  DPHYS_CHECK(config.n >= 4 && config.length > 0 && std::isfinite(config.length) && config.dt > 0 &&
                  std::isfinite(config.dt),
              "KuramotoSivashinsky: invalid configuration n={} length={} dt={}", config.n, config.length,
              config.dt);
  const Tensor x = arange(0, static_cast<double>(config.n), 1, DType::f64) * (config.length / config.n);
  forcing_ = 0.1 * cos(x) - 0.01 * cos(x / 16.0) * (1.0 - 2.0 * sin(x / 16.0));

  const std::vector<double> k = rfft_wavenumbers(config.n, config.length).to_vector<double>();
  const double h = config.dt;
  std::vector<double> z(k.size()), z_half(k.size()), e(k.size()), e_half(k.size());
  for (std::size_t i = 0; i < k.size(); ++i) {
    const double c = k[i] * k[i] - k[i] * k[i] * k[i] * k[i];
    z[i] = c * h;
    z_half[i] = c * h / 2;
    e[i] = std::exp(z[i]);
    e_half[i] = std::exp(z_half[i]);
  }
  const std::int64_t bins = static_cast<std::int64_t>(k.size());
  e_ = from_vector(e, {bins}, DType::f64);
  e_half_ = from_vector(e_half, {bins}, DType::f64);
  // ETD-RK2 (jpo.md §8.2): f1 = h·(e^z − 1)/z, f2 = h·(e^z − 1 − z)/z².
  f1_ = contour_mean(z, [](Complex s) { return (std::exp(s) - 1.0) / s; }) * h;
  f2_ = contour_mean(z, [](Complex s) { return (std::exp(s) - 1.0 - s) / (s * s); }) * h;
  // ETD-RK4 (Kassam & Trefethen 2005, Eq. 2.5): Q = (h/2)·(e^{z/2} − 1)/(z/2) and the three weights.
  q_ = contour_mean(z_half, [](Complex s) { return (std::exp(s) - 1.0) / s; }) * (h / 2);
  g1_ = contour_mean(
            z, [](Complex s) { return (-4.0 - s + std::exp(s) * (4.0 - 3.0 * s + s * s)) / (s * s * s); }) *
        h;
  g2_ = contour_mean(z, [](Complex s) { return (2.0 + s + std::exp(s) * (-2.0 + s)) / (s * s * s); }) * h;
  g3_ = contour_mean(
            z, [](Complex s) { return (-4.0 - 3.0 * s - s * s + std::exp(s) * (4.0 - s)) / (s * s * s); }) *
        h;
  for (Tensor* table : {&forcing_, &e_, &f1_, &f2_, &e_half_, &q_, &g1_, &g2_, &g3_})
    *table = table->to(device);
}

void KuramotoSivashinsky::check(const Tensor& u) const {
  DPHYS_CHECK(u.dim() == 2 && u.shape()[1] == config_.n,
              "KuramotoSivashinsky: expected u of shape [B, {}], got {}", config_.n, shape_str(u.shape()));
  DPHYS_CHECK(u.device() == device_,
              "KuramotoSivashinsky: u is on {} but this solver's tables are on {} (construct it with the "
              "device)",
              u.device().str(), device_.str());
}

Tensor KuramotoSivashinsky::nonlinear(const Tensor& u, const Tensor& alpha, const Tensor& beta) const {
  const Tensor g = cast(forcing_, u.dtype());
  return as_column(alpha, "alpha") * g -
         (0.5 * as_column(beta, "beta")) * spectral_derivative(u * u, config_.length);
}

Tensor KuramotoSivashinsky::step_etdrk2(const Tensor& u, const Tensor& alpha, const Tensor& beta) const {
  check(u);
  const Tensor nu = nonlinear(u, alpha, beta);
  const Tensor a = fourier_filter(u, e_, 1) + fourier_filter(nu, f1_, 1);
  return a + fourier_filter(nonlinear(a, alpha, beta) - nu, f2_, 1);
}

Tensor KuramotoSivashinsky::step_etdrk4(const Tensor& u, const Tensor& alpha, const Tensor& beta) const {
  check(u);
  const auto filter = [](const Tensor& v, const Tensor& m) { return fourier_filter(v, m, 1); };
  const Tensor nv = nonlinear(u, alpha, beta);
  const Tensor eu = filter(u, e_half_);
  const Tensor a = eu + filter(nv, q_);
  const Tensor na = nonlinear(a, alpha, beta);
  const Tensor b = eu + filter(na, q_);
  const Tensor nb = nonlinear(b, alpha, beta);
  const Tensor c = filter(a, e_half_) + filter(2.0 * nb - nv, q_);
  const Tensor nc = nonlinear(c, alpha, beta);
  return filter(u, e_) + filter(nv, g1_) + 2.0 * filter(na + nb, g2_) + filter(nc, g3_);
}

Tensor KuramotoSivashinsky::rollout(const Tensor& u0, const Tensor& alpha, const Tensor& beta,
                                    int steps) const {
  DPHYS_CHECK(steps >= 0, "KuramotoSivashinsky::rollout: negative step count {}", steps);
  Tensor u = u0;
  for (int s = 0; s < steps; ++s) u = step_etdrk2(u, alpha, beta);
  return u;
}

}  // namespace dphys
