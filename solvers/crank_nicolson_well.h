#pragma once
// The Crank–Nicolson rollout of the quantum dipole (schrodinger.h) and its discrete adjoint, one example on
// plain f64 arrays. The CPU loop (schrodinger.cpp) and the device kernels (solvers/cuda/per_example.cu) both
// run these functions, so the two devices agree to round-off (a GPU fuses multiply-adds and has its own exp).
// std::complex has no device functions, hence the small complex type here; its division (one real division
// per part by |b|²) rounds differently from libgcc's std::complex division, by about 1e-14 over a rollout.
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::crank_nicolson {

struct Complex {
  double re = 0, im = 0;
};
DPHYS_HOST_DEVICE inline Complex operator+(Complex a, Complex b) { return {a.re + b.re, a.im + b.im}; }
DPHYS_HOST_DEVICE inline Complex operator-(Complex a, Complex b) { return {a.re - b.re, a.im - b.im}; }
DPHYS_HOST_DEVICE inline Complex operator*(Complex a, Complex b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
// The only divisors here are the Thomas pivots of I + iK (K real symmetric), whose real parts are at least 1,
// so |b|² neither overflows nor underflows and the textbook formula is accurate.
DPHYS_HOST_DEVICE inline Complex operator/(Complex a, Complex b) {
  const double norm = b.re * b.re + b.im * b.im;
  return {(a.re * b.re + a.im * b.im) / norm, (a.im * b.re - a.re * b.im) / norm};
}

// The discretised well. Every matrix here is I + i·σ·τ·H(u) with σ = ±1 and τ = Δt/2: σ = +1 is the
// implicit side A of a CN step, σ = −1 the explicit side B = Aᴴ.
struct Well {
  std::int64_t n = 0;
  double dx = 0, tau = 0;

  DPHYS_HOST_DEVICE double x(std::int64_t j) const { return static_cast<double>(j + 1) * dx; }
  DPHYS_HOST_DEVICE Complex diagonal(double u, double sigma, std::int64_t j) const {
    return {1.0, sigma * tau * (2 / (dx * dx) + u * x(j))};
  }
  DPHYS_HOST_DEVICE Complex off_diagonal(double sigma) const { return {0.0, -sigma * tau / (dx * dx)}; }

  // out = (I + iστH(u)) v.
  DPHYS_HOST_DEVICE void apply(double u, double sigma, const Complex* v, Complex* out) const {
    const Complex off = off_diagonal(sigma);
    for (std::int64_t j = 0; j < n; ++j) {
      Complex neighbours;
      if (j > 0) neighbours = neighbours + v[j - 1];
      if (j + 1 < n) neighbours = neighbours + v[j + 1];
      out[j] = diagonal(u, sigma, j) * v[j] + off * neighbours;
    }
  }

  // Solves (I + iστH(u)) y = r by the Thomas algorithm. No pivoting is needed: the Hermitian part of the
  // matrix is I, so is that of every leading block, which is therefore nonsingular: no pivot is zero.
  DPHYS_HOST_DEVICE void solve(double u, double sigma, const Complex* r, Complex* y, Complex* scratch) const {
    const Complex off = off_diagonal(sigma);
    Complex pivot = diagonal(u, sigma, 0);
    scratch[0] = off / pivot;
    y[0] = r[0] / pivot;
    for (std::int64_t j = 1; j < n; ++j) {
      pivot = diagonal(u, sigma, j) - off * scratch[j - 1];
      scratch[j] = off / pivot;
      y[j] = (r[j] - off * y[j - 1]) / pivot;
    }
    for (std::int64_t j = n - 2; j >= 0; --j) y[j] = y[j] - scratch[j] * y[j + 1];
  }
};

// Complex scratch values one example needs, per interior point (the adjoint's six work vectors).
constexpr std::int64_t kScratchPerPoint = 6;

// ψ of one example at one time, stored as [2, n] (Re, Im), to complex and back.
DPHYS_HOST_DEVICE inline void load(const double* p, std::int64_t n, Complex* z) {
  for (std::int64_t j = 0; j < n; ++j) z[j] = {p[j], p[n + j]};
}
DPHYS_HOST_DEVICE inline void store(const Complex* z, std::int64_t n, double* p) {
  for (std::int64_t j = 0; j < n; ++j) {
    p[j] = z[j].re;
    p[n + j] = z[j].im;
  }
}

// One example's states ψ_0..ψ_steps, [steps + 1, 2, n], from psi0 [2, n] under the controls u [steps].
DPHYS_HOST_DEVICE inline void rollout(const Well& well, const double* psi0, const double* u,
                                      std::int64_t steps, double* trajectory, Complex* scratch) {
  const std::int64_t n = well.n, m = 2 * n;
  Complex *psi = scratch, *rhs = scratch + n, *pivots = scratch + 2 * n;
  load(psi0, n, psi);
  store(psi, n, trajectory);
  for (std::int64_t k = 0; k < steps; ++k) {
    well.apply(u[k], -1.0, psi, rhs);
    well.solve(u[k], 1.0, rhs, psi, pivots);
    store(psi, n, trajectory + (k + 1) * m);
  }
}

// The discrete adjoint of `rollout` for the cotangent g of the whole trajectory: `row` receives the
// cotangents [ψ̄_0 (2n values), ū (steps values)].
// The step is ψ_{k+1} = A⁻¹Bψ_k with A, B commuting and B = Aᴴ, so its adjoint is (A⁻¹B)ᴴ = AB⁻¹: with
// μ = B⁻¹λ_{k+1}, λ_k = Aμ + g_k, and since ∂ψ_{k+1}/∂u_k = −iτA⁻¹X(ψ_k + ψ_{k+1}),
// ū_k = Re⟨μ, −iτX(ψ_k + ψ_{k+1})⟩ = τ Σ_j x_j Im(conj(μ_j)(ψ_k + ψ_{k+1})_j).
DPHYS_HOST_DEVICE inline void adjoint(const Well& well, const double* g, const double* trajectory,
                                      const double* u, std::int64_t steps, double* row, Complex* scratch) {
  const std::int64_t n = well.n, m = 2 * n;
  Complex *lambda = scratch, *mu = scratch + n, *pivots = scratch + 2 * n, *now = scratch + 3 * n,
          *next = scratch + 4 * n, *g_k = scratch + 5 * n;
  load(g + steps * m, n, lambda);
  for (std::int64_t k = steps - 1; k >= 0; --k) {
    load(trajectory + k * m, n, now);
    load(trajectory + (k + 1) * m, n, next);
    well.solve(u[k], -1.0, lambda, mu, pivots);
    double control = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      const Complex sum = now[j] + next[j];
      control += well.x(j) * (mu[j].re * sum.im - mu[j].im * sum.re);  // Im(conj(μ_j)·sum)
    }
    row[m + k] = well.tau * control;
    well.apply(u[k], 1.0, mu, lambda);
    load(g + k * m, n, g_k);
    for (std::int64_t j = 0; j < n; ++j) lambda[j] = lambda[j] + g_k[j];
  }
  store(lambda, n, row);
}

}  // namespace dphys::crank_nicolson
