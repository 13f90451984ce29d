#pragma once
// The per-example scalar logic of batched CG (solvers/linear_solve.cpp): convergence, step sizes, failures.
// It runs where the vectors live, one call per example and phase: a loop on the CPU, a kernel on a device
// (solvers/cuda/cg_control.cu). So on a GPU the iteration never waits for the host, which reads the record
// only now and then to decide whether to stop.
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::cg_control {

// The rows of the record the host reads, an f64 [kRows, batch] tensor: row k holds field k of every example.
enum Row : std::int64_t {
  threshold,          // converged when ‖r‖ ≤ max(abs_tol, rel_tol·‖b‖)
  active,             // 1 until the example converges; finished examples take zero steps
  iterations,         // iterations done when it converged (or when CG stopped)
  converged,          // 1 once ‖r‖ ≤ threshold
  residual,           // the latest ‖r‖
  failure,            // Failure: the first one of this example
  failure_iteration,  // where it happened
  failure_value,      // ‖r‖ or pᵀAp then
  kRows
};

enum Failure : int { none = 0, residual_not_finite = 1, not_positive_definite = 2 };

// The record's rows and the per-example coefficients the vector kernels take, each [batch] on one device.
struct Record {
  double* rows;
  double* rz;     // rᵀz of the current residual
  double* alpha;  // this iteration's step size
  double* beta;   // this iteration's direction coefficient
  std::int64_t batch;
  DPHYS_HOST_DEVICE double& at(Row row, std::int64_t example) const { return rows[row * batch + example]; }
};

DPHYS_HOST_DEVICE inline void fail(const Record& s, std::int64_t i, Failure kind, int iteration,
                                   double value) {
  if (s.at(failure, i) != none) return;
  s.at(failure, i) = kind;
  s.at(failure_iteration, i) = iteration;
  s.at(failure_value, i) = value;
}

// Before the first iteration: b_squared = ‖b‖², rz0 = r₀ᵀz₀.
DPHYS_HOST_DEVICE inline void start(const Record& s, std::int64_t i, double b_squared, double rz0,
                                    double abs_tol, double rel_tol) {
  const double b_norm = std::sqrt(b_squared);
  s.rz[i] = rz0;
  s.at(threshold, i) = abs_tol > rel_tol * b_norm ? abs_tol : rel_tol * b_norm;
  s.at(active, i) = 1.0;
  s.at(iterations, i) = 0.0;
  s.at(converged, i) = 0.0;
  s.at(residual, i) = 0.0;
  s.at(failure, i) = none;
  s.alpha[i] = 0.0;
  s.beta[i] = 0.0;
}

// At the start of `iteration`, with r_squared = ‖r‖²: records the residual and retires a converged example.
DPHYS_HOST_DEVICE inline void check_residual(const Record& s, std::int64_t i, double r_squared,
                                             int iteration) {
  const double norm = std::sqrt(r_squared);
  if (!std::isfinite(norm)) fail(s, i, residual_not_finite, iteration, norm);
  s.at(residual, i) = norm;
  if (s.at(active, i) == 0.0) return;
  s.at(iterations, i) = iteration;
  if (norm <= s.at(threshold, i)) {
    s.at(converged, i) = 1.0;
    s.at(active, i) = 0.0;
  }
}

// With curvature = pᵀAp: the step size α = rᵀz / pᵀAp of an active example, 0 for a finished one.
DPHYS_HOST_DEVICE inline void step_size(const Record& s, std::int64_t i, double curvature, int iteration) {
  const bool running = s.at(active, i) != 0.0;
  if (running && !(curvature > 0)) fail(s, i, not_positive_definite, iteration, curvature);
  s.alpha[i] = running ? s.rz[i] / curvature : 0.0;
}

// With rz_next = rᵀz after the update: β = rz_next / rz of an active example, 0 for a finished one.
DPHYS_HOST_DEVICE inline void direction(const Record& s, std::int64_t i, double rz_next) {
  s.beta[i] = s.at(active, i) != 0.0 ? rz_next / s.rz[i] : 0.0;
  s.rz[i] = rz_next;
}

enum class Phase { start, check_residual, step_size, direction };

// One phase for example i; `values` is the phase's [batch] input (‖b‖² for start, with rz0 in `second`;
// ‖r‖², pᵀAp or rz_next for the others).
DPHYS_HOST_DEVICE inline void run(Phase phase, const Record& s, std::int64_t i, const double* values,
                                  const double* second, int iteration, double abs_tol, double rel_tol) {
  switch (phase) {
    case Phase::start:
      return start(s, i, values[i], second[i], abs_tol, rel_tol);
    case Phase::check_residual:
      return check_residual(s, i, values[i], iteration);
    case Phase::step_size:
      return step_size(s, i, values[i], iteration);
    case Phase::direction:
      return direction(s, i, values[i]);
  }
}

}  // namespace dphys::cg_control

namespace dphys::device_kernel {

// cg_control::run over every example, one thread each.
void cg_control(cg_control::Phase phase, const cg_control::Record& record, const double* values,
                const double* second, int iteration, double abs_tol, double rel_tol);

}  // namespace dphys::device_kernel
