#include "solvers/linear_solve.h"

#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/cg_kernels.h"

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

void check_finite(const char* what, const Tensor& x) {
  const Tensor bad = sum(ne(x, x)) + sum(eq(abs(x), scalar(INFINITY, x.dtype(), x.device())));
  DPHYS_CHECK(bad.item() == 0.0, "conjugate_gradient: {} of shape {} contains NaN or Inf", what,
              shape_str(x.shape()));
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
  check_finite("the right-hand side", b);
  if (x0.defined()) check_finite("the initial guess", x0);
  const auto project = [&](const Tensor& v) { return options.zero_mean ? remove_mean(v) : v; };

  // x, r, z and p are owned here and updated in place by the fused kernels of engine/cg_kernels.h.
  const Tensor rhs = project(b);
  const Tensor x = x0.defined() ? project(x0).clone() : zeros_like(b);
  const Tensor r = x0.defined() ? rhs - project(a(x)) : rhs.clone();
  const Tensor z = diagonal.defined() ? r / diagonal : r;  // without a preconditioner z is r itself
  const Tensor p = z.clone();
  std::vector<double> rz = kernel::batched_dot(r, z);
  const auto residual_norms = [&] {
    std::vector<double> norms = diagonal.defined() ? kernel::batched_dot(r, r) : rz;
    for (double& n : norms) n = std::sqrt(n);
    return norms;
  };
  const std::int64_t batch = b.shape()[0];
  std::vector<double> b_norm = kernel::batched_dot(rhs, rhs);
  for (double& n : b_norm) n = std::sqrt(n);
  CgResult result;
  result.iterations.assign(batch, 0);
  result.converged.assign(batch, false);
  result.residual.assign(batch, 0.0);
  std::vector<bool> active(batch, true);
  std::vector<double> alpha(batch), beta(batch);

  for (int iteration = 0;; ++iteration) {
    const std::vector<double> r_norm = residual_norms();
    bool any_active = false;
    for (std::int64_t i = 0; i < batch; ++i) {
      DPHYS_CHECK(std::isfinite(r_norm[i]),
                  "conjugate_gradient: the residual of example {} became NaN or Inf after {} "
                  "iterations; is the operator symmetric positive definite?",
                  i, iteration);
      result.residual[i] = r_norm[i];
      if (!active[i]) continue;
      result.iterations[i] = iteration;
      if (r_norm[i] <= std::max(options.abs_tol, options.rel_tol * b_norm[i])) {
        result.converged[i] = true;
        active[i] = false;
      } else {
        any_active = true;
      }
    }
    if (!any_active || iteration >= options.max_iterations) break;
    const Tensor ap = project(a(p));
    const std::vector<double> curvature = kernel::batched_dot(p, ap);
    for (std::int64_t i = 0; i < batch; ++i) {
      DPHYS_CHECK(!active[i] || curvature[i] > 0,
                  "conjugate_gradient: example {} has pᵀAp = {} at iteration {}; the "
                  "operator is not positive definite",
                  i, curvature[i], iteration);
      alpha[i] = active[i] ? rz[i] / curvature[i] : 0.0;  // finished examples take zero steps
    }
    const std::vector<double> rz_next = kernel::cg_update(x, r, z, p, ap, alpha, diagonal);
    for (std::int64_t i = 0; i < batch; ++i) beta[i] = active[i] ? rz_next[i] / rz[i] : 0.0;
    kernel::cg_direction(p, z, beta);
    rz = rz_next;
  }
  if (options.strict && !result.all_converged()) {
    std::vector<std::int64_t> failed;
    for (std::int64_t i = 0; i < batch; ++i)
      if (!result.converged[i]) failed.push_back(i);
    fail("conjugate_gradient: examples [{}] did not converge within {} iterations (right-hand side {})",
         fmt::join(failed, ", "), options.max_iterations, shape_str(b.shape()));
  }
  result.x = x;
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
