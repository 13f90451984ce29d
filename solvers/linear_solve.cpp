#include "solvers/linear_solve.h"

#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/cg_kernels.h"
#include "engine/device_dispatch.h"
#include "engine/value_check.h"
#include "solvers/cg_control.h"

namespace dphys {

namespace {

std::vector<int> example_axes(const Tensor& x) {
  std::vector<int> axes;
  for (int d = 1; d < x.dim(); ++d) axes.push_back(d);
  return axes;
}

Tensor remove_mean(const Tensor& x) {
  const std::vector<int> axes = example_axes(x);
  return axes.empty() ? zeros_like(x) : x - mean(x, axes, true);
}

// On a device, raised at the next read from it (the first read of CG's record follows at once).
void check_finite(const char* what, const Tensor& x) {
  kernel::check_finite(x.detach(), fmt::format("conjugate_gradient: {} of shape {} contains NaN or Inf", what,
                                               shape_str(x.shape())));
}

// The host's copy of the record's rows (cg_control::Row), [kRows, batch].
struct HostRecord {
  const double* rows;
  std::int64_t batch;
  double at(cg_control::Row row, std::int64_t example) const { return rows[row * batch + example]; }
};

bool any_active(const Tensor& host_record) {
  const HostRecord s{host_record.data<double>(), host_record.shape()[1]};
  for (std::int64_t i = 0; i < s.batch; ++i)
    if (s.at(cg_control::active, i) != 0.0) return true;
  return false;
}

// Raises the earliest failure in the record: a residual that is not finite, or pᵀAp ≤ 0 (which CG meets in
// the same iteration after the residual check), the lowest example first.
void raise_failure(const Tensor& host_record) {
  const HostRecord s{host_record.data<double>(), host_record.shape()[1]};
  std::int64_t first = -1;
  const auto order = [&](std::int64_t i) {
    return 2 * s.at(cg_control::failure_iteration, i) + s.at(cg_control::failure, i);
  };
  for (std::int64_t i = 0; i < s.batch; ++i)
    if (s.at(cg_control::failure, i) != cg_control::none && (first < 0 || order(i) < order(first))) first = i;
  if (first < 0) return;
  const int iteration = static_cast<int>(s.at(cg_control::failure_iteration, first));
  DPHYS_CHECK(s.at(cg_control::failure, first) != cg_control::residual_not_finite,
              "conjugate_gradient: the residual of example {} became NaN or Inf after {} "
              "iterations; is the operator symmetric positive definite?",
              first, iteration);
  fail("conjugate_gradient: example {} has pᵀAp = {} at iteration {}; the operator is not positive definite",
       first, s.at(cg_control::failure_value, first), iteration);
}

}  // namespace

bool CgResult::all_converged() const {
  for (bool c : converged)
    if (!c) return false;
  return true;
}

CgResult conjugate_gradient(const LinearOperator& a, const Tensor& b, const Tensor& x0,
                            const CgOptions& options, const Tensor& diagonal) {
  NoGradGuard no_grad;
  DPHYS_CHECK(b.dim() >= 1 && b.shape()[0] >= 1,
              "conjugate_gradient: the right-hand side needs a batch axis, got {}", shape_str(b.shape()));
  DPHYS_CHECK(!x0.defined() || x0.shape() == b.shape(),
              "conjugate_gradient: initial guess {} for right-hand side {}", shape_str(x0.shape()),
              shape_str(b.shape()));
  DPHYS_CHECK(!diagonal.defined() || diagonal.shape() == b.shape(),
              "conjugate_gradient: diagonal {} for right-hand side {}", shape_str(diagonal.shape()),
              shape_str(b.shape()));
  DPHYS_CHECK(
      options.max_iterations >= 0 && options.rel_tol >= 0 && options.abs_tol >= 0 &&
          std::isfinite(options.rel_tol) && std::isfinite(options.abs_tol),
      "conjugate_gradient: max_iterations {} must be >= 0 and the tolerances (rel {}, abs {}) finite and "
      ">= 0",
      options.max_iterations, options.rel_tol, options.abs_tol);
  check_finite("the right-hand side", b);
  if (x0.defined()) check_finite("the initial guess", x0);
  if (diagonal.defined()) {
    // Jacobi needs a positive diagonal; a zero or NaN entry was reported as an operator that is not definite.
    const Tensor bad = sum(le(diagonal, zeros_like(diagonal))) + sum(ne(diagonal, diagonal)) +
                       sum(eq(diagonal, scalar(INFINITY, diagonal.dtype(), diagonal.device())));
    kernel::check_zero(bad, fmt::format("conjugate_gradient: the diagonal of shape {} has entries that are "
                                        "not positive and finite",
                                        shape_str(diagonal.shape())));
  }
  const auto project = [&](const Tensor& v) { return options.zero_mean ? remove_mean(v) : v; };

  // x, r, z and p are owned here and updated in place by the fused kernels of engine/cg_kernels.h.
  const Tensor rhs = project(b);
  Tensor x = x0.defined() ? project(x0).clone() : zeros_like(b);
  Tensor r = x0.defined() ? rhs - project(a(x)) : rhs.clone();
  if (x0.defined()) {
    // A warm start farther from the solution than zero (‖b − A x0‖ > ‖b‖) restarts from zero: a tolerance
    // relative to ‖b‖ could otherwise ask for more digits than the precision holds (f32 pressure solves
    // warm-started from an unrelated field diverged).
    Shape per_example(b.dim(), 1);
    per_example[0] = b.shape()[0];
    const Tensor restart =
        reshape(cast(gt(kernel::batched_dot(r, r), kernel::batched_dot(rhs, rhs)), b.dtype()), per_example);
    x = where(restart, zeros_like(x), x);
    r = where(restart, rhs, r);
  }
  const Tensor z = diagonal.defined() ? r / diagonal : r;  // without a preconditioner z is r itself
  const Tensor p = z.clone();
  const std::int64_t batch = b.shape()[0];
  // The per-example scalars live beside the vectors (solvers/cg_control.h).
  const Tensor record = Tensor::empty({cg_control::kRows, batch}, DType::f64, b.device());
  const Tensor rz = Tensor::empty({batch}, DType::f64, b.device()), alpha = zeros_like(rz),
               beta = zeros_like(rz);
  const cg_control::Record s{device_data<double>(record), device_data<double>(rz), device_data<double>(alpha),
                             device_data<double>(beta), batch};
  const auto run = [&](cg_control::Phase phase, const Tensor& values, int iteration,
                       const Tensor& second = Tensor()) {
    const double* v = device_data<double>(values);
    const double* w = second.defined() ? device_data<double>(second) : nullptr;
    if (!record.device().is_cpu())
      return device_kernel::cg_control(phase, s, v, w, iteration, options.abs_tol, options.rel_tol);
    for (std::int64_t i = 0; i < batch; ++i)
      cg_control::run(phase, s, i, v, w, iteration, options.abs_tol, options.rel_tol);
  };
  run(cg_control::Phase::start, kernel::batched_dot(rhs, rhs), 0, kernel::batched_dot(r, z));
  // The host reads the record to decide whether to stop. On the CPU that is free; on a device it waits for
  // the device, so it reads at the first iterations (warm starts converge early) and then every 4th: at
  // most 3 iterations more than needed, in which finished examples take zero steps.
  const auto read_now = [&](int iteration) {
    return record.device().is_cpu() || iteration < 4 || iteration % 4 == 0 ||
           iteration >= options.max_iterations;
  };
  Tensor read;
  for (int iteration = 0;; ++iteration) {
    run(cg_control::Phase::check_residual, diagonal.defined() ? kernel::batched_dot(r, r) : rz, iteration);
    if (read_now(iteration)) {
      read = record.to(Device::cpu());
      raise_failure(read);
      if (!any_active(read) || iteration >= options.max_iterations) break;
    }
    const Tensor ap = project(a(p));
    run(cg_control::Phase::step_size, kernel::batched_dot(p, ap), iteration);
    run(cg_control::Phase::direction, kernel::cg_update(x, r, z, p, ap, alpha, diagonal), iteration);
    kernel::cg_direction(p, z, beta);
  }
  CgResult result;
  const HostRecord final_record{read.data<double>(), batch};
  for (std::int64_t i = 0; i < batch; ++i) {
    result.iterations.push_back(static_cast<int>(final_record.at(cg_control::iterations, i)));
    result.converged.push_back(final_record.at(cg_control::converged, i) != 0.0);
    result.residual.push_back(final_record.at(cg_control::residual, i));
  }
  if (options.strict && !result.all_converged()) {
    std::vector<std::int64_t> failed;
    for (std::int64_t i = 0; i < batch; ++i)
      if (!result.converged[i]) failed.push_back(i);
    fail("conjugate_gradient: examples [{}] did not converge within {} iterations (right-hand side {})",
         fmt::join(failed, ", "), options.max_iterations, shape_str(b.shape()));
  }
  // With a preconditioner the iterates may pick up a constant, which A ignores: the zero-mean solution.
  result.x = options.zero_mean && diagonal.defined() ? remove_mean(x) : x;
  return result;
}

Tensor linear_solve(const ParametrisedOperator& a, const Tensor& b, const std::vector<Tensor>& params,
                    const CgOptions& options, const Tensor& x0, CgResult* info, const Tensor& diagonal) {
  std::vector<Tensor> inputs{b};
  inputs.insert(inputs.end(), params.begin(), params.end());
  const auto forward = [&](const std::vector<Tensor>& in) {
    const std::vector<Tensor> theta(in.begin() + 1, in.end());
    CgResult solved =
        conjugate_gradient([&](const Tensor& x) { return a(x, theta); }, in[0], x0, options, diagonal);
    Tensor x = solved.x;
    if (info != nullptr) *info = std::move(solved);
    return x;
  };
  const auto backward = [a, options, diagonal](const Tensor& g, const std::vector<Tensor>& in,
                                               const Tensor& x) {
    const std::vector<Tensor> theta(in.begin() + 1, in.end());
    const Tensor lambda = linear_solve(a, g, theta, options, Tensor(), nullptr, diagonal);
    std::vector<Tensor> grads{lambda};
    if (!theta.empty()) {
      const auto applied = [&](const std::vector<Tensor>& t) { return a(x, t); };
      for (Tensor& gt : vjp(applied, theta, neg(lambda)).second) grads.push_back(gt);
    }
    return grads;
  };
  return custom_op("linear_solve", inputs, forward, backward);
}

}  // namespace dphys
