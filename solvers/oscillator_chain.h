#pragma once
// The RK4 rollout of the oscillator chain (oscillators.h) and its discrete adjoint, one example on plain f64
// arrays. The CPU loop (oscillators.cpp) and the device kernels (solvers/cuda/per_example.cu) both run these
// functions, so the two devices agree to round-off (a GPU fuses multiply-adds).
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::oscillator_chain {

// The chain's parameters. `weights` (c, n values) is an address on the device that runs the code.
struct Chain {
  std::int64_t n = 0;
  double coupling = 0, dt = 0;
  const double* weights = nullptr;
};

// Scratch doubles one example needs, per oscillator: rate, sum and next (2n each), the four stage states and
// their cotangents (8n each).
constexpr std::int64_t kScratchPerOscillator = 22;

namespace detail {

// Classical RK4: stage k+1 evaluates f at y_{k+1} = s + offset_{k+1}·h·k_k; the step adds h/6·Σ weight_k·k_k.
DPHYS_HOST_DEVICE inline double stage_weight(int stage) { return stage == 0 || stage == 3 ? 1.0 : 2.0; }
DPHYS_HOST_DEVICE inline double stage_offset(int stage) { return stage == 0 ? 0.0 : stage == 3 ? 1.0 : 0.5; }
DPHYS_HOST_DEVICE inline double cube(double v) { return v * v * v; }

// ds = f(s, u).
DPHYS_HOST_DEVICE inline void rate(const Chain& c, const double* s, double u, double* ds) {
  const std::int64_t n = c.n;
  for (std::int64_t i = 0; i < n; ++i) {
    double force = -s[i] + c.weights[i] * u;
    if (i + 1 < n) force += c.coupling * cube(s[i + 1] - s[i]);
    if (i > 0) force += c.coupling * cube(s[i - 1] - s[i]);
    ds[i] = s[n + i];
    ds[n + i] = force;
  }
}

// out += (∂f/∂s)ᵀ v at s, and returns (∂f/∂u)ᵀ v = Σ c_i v_{p_i}.
DPHYS_HOST_DEVICE inline double rate_transpose(const Chain& c, const double* s, const double* v,
                                               double* out) {
  const std::int64_t n = c.n;
  const double* vp = v + n;
  double control = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    out[n + i] += v[i];
    out[i] -= vp[i];
    control += c.weights[i] * vp[i];
  }
  // Bond (i, i+1) adds ±k₃(x_{i+1} − x_i)³ to ṗ_i and ṗ_{i+1}; its Hessian block is q·[[−1, 1], [1, −1]].
  for (std::int64_t i = 0; i + 1 < n; ++i) {
    const double q = 3 * c.coupling * (s[i + 1] - s[i]) * (s[i + 1] - s[i]);
    out[i] += q * (vp[i + 1] - vp[i]);
    out[i + 1] += q * (vp[i] - vp[i + 1]);
  }
  return control;
}

// One RK4 step s -> next, leaving the stage states y_1..y_4 in the scratch for step_transpose.
DPHYS_HOST_DEVICE inline void step(const Chain& c, const double* s, double u, double* next, double* scratch) {
  const std::int64_t m = 2 * c.n;
  double *k = scratch, *sum = scratch + m, *stages = scratch + 3 * m;
  for (std::int64_t j = 0; j < m; ++j) k[j] = sum[j] = 0;
  for (int stage = 0; stage < 4; ++stage) {
    double* y = stages + stage * m;
    for (std::int64_t j = 0; j < m; ++j) y[j] = s[j] + stage_offset(stage) * c.dt * k[j];
    rate(c, y, u, k);
    for (std::int64_t j = 0; j < m; ++j) sum[j] += stage_weight(stage) * k[j];
  }
  for (std::int64_t j = 0; j < m; ++j) next[j] = s[j] + c.dt / 6 * sum[j];
}

// Reverse of `step` from s: lambda holds the cotangent of the next state on entry and that of s on exit;
// returns the cotangent of u. The stages are undone from the last one, since y_{k+1} depends on k_k.
DPHYS_HOST_DEVICE inline double step_transpose(const Chain& c, const double* s, double u, double* lambda,
                                               double* scratch) {
  const std::int64_t m = 2 * c.n;
  double *k = scratch, *next = scratch + 2 * m, *stages = scratch + 3 * m, *a = scratch + 7 * m;
  step(c, s, u, next, scratch);            // recomputes the stage states; the next state itself is not needed
  for (int stage = 0; stage < 4; ++stage)  // a: the cotangents of k_1..k_4
    for (std::int64_t j = 0; j < m; ++j) a[stage * m + j] = c.dt / 6 * stage_weight(stage) * lambda[j];
  double control = 0;
  for (int stage = 3; stage >= 0; --stage) {
    for (std::int64_t j = 0; j < m; ++j) k[j] = 0;
    control += rate_transpose(c, stages + stage * m, a + stage * m, k);
    for (std::int64_t j = 0; j < m; ++j) {
      lambda[j] += k[j];
      if (stage > 0) a[(stage - 1) * m + j] += stage_offset(stage) * c.dt * k[j];
    }
  }
  return control;
}

}  // namespace detail

// One example's states s_0..s_steps, [steps + 1, 2n], from s0 [2n] under the controls u [steps].
DPHYS_HOST_DEVICE inline void rollout(const Chain& c, const double* s0, const double* u, std::int64_t steps,
                                      double* trajectory, double* scratch) {
  const std::int64_t m = 2 * c.n;
  for (std::int64_t j = 0; j < m; ++j) trajectory[j] = s0[j];
  for (std::int64_t k = 0; k < steps; ++k)
    detail::step(c, trajectory + k * m, u[k], trajectory + (k + 1) * m, scratch);
}

// The discrete adjoint of `rollout` for the cotangent g of the whole trajectory ([steps + 1, 2n]): the
// cotangents of s0 (s_bar [2n]) and of the controls (u_bar [steps]).
DPHYS_HOST_DEVICE inline void adjoint(const Chain& c, const double* trajectory, const double* u,
                                      const double* g, std::int64_t steps, double* s_bar, double* u_bar,
                                      double* scratch) {
  const std::int64_t m = 2 * c.n;
  for (std::int64_t j = 0; j < m; ++j) s_bar[j] = g[steps * m + j];
  for (std::int64_t k = steps - 1; k >= 0; --k) {
    u_bar[k] = detail::step_transpose(c, trajectory + k * m, u[k], s_bar, scratch);
    for (std::int64_t j = 0; j < m; ++j) s_bar[j] += g[k * m + j];
  }
}

}  // namespace dphys::oscillator_chain
