#include "optim/newton.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <functional>

#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/parallel.h"
#include "engine/value_check.h"
#include "optim/gauss_newton.h"

namespace dphys::optim {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Solves every problem in the eigenbasis of its symmetrised Hessian: `coordinate(s, g_e, all_s)` maps an
// eigenvalue and the gradient's component along its eigenvector to the step's component.
Tensor eigen_direction(const char* op, const Tensor& grad, const Tensor& hessian,
                       const std::function<double(double, double, const Eigen::VectorXd&)>& coordinate) {
  DPHYS_CHECK(grad.dim() == 2 && hessian.dim() == 3 && hessian.size(0) == grad.size(0) &&
                  hessian.size(1) == grad.size(1) && hessian.size(2) == grad.size(1),
              "{}: grad of shape {} and hessian of shape {}; expected [B, d] and [B, d, d]", op,
              shape_str(grad.shape()), shape_str(hessian.shape()));
  DPHYS_CHECK(is_floating(grad.dtype()) && !is_complex(grad.dtype()),
              "{}: grad has dtype {}; expected f32 or f64", op, dtype_name(grad.dtype()));
  const std::int64_t batch = grad.size(0), d = grad.size(1);
  // Eigen's eigensolver gives no error for NaN (a NaN in H came back as a NaN step, an Inf as a zero step).
  kernel::check_finite(grad.detach(),
                       fmt::format("{}: grad of shape {} contains NaN or Inf", op, shape_str(grad.shape())));
  kernel::check_finite(hessian.detach(), fmt::format("{}: hessian of shape {} contains NaN or Inf", op,
                                                     shape_str(hessian.shape())));
  const std::vector<double> g = cast(grad, DType::f64).to_vector<double>();
  const std::vector<double> h = cast(hessian, DType::f64).to_vector<double>();
  std::vector<double> delta(g.size(), 0.0);
  if (d == 0) return from_vector(delta, grad.shape(), grad.dtype(), grad.device());  // no unknowns
  parallel_for(batch, d * d * d, [&](std::int64_t b) {
    const Eigen::Map<const RowMatrix> hb(h.data() + b * d * d, d, d);
    const Eigen::MatrixXd symmetric = 0.5 * (hb + hb.transpose());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(symmetric);
    const Eigen::VectorXd& s = eigen.eigenvalues();
    const Eigen::VectorXd ge =
        eigen.eigenvectors().transpose() * Eigen::Map<const Eigen::VectorXd>(g.data() + b * d, d);
    Eigen::VectorXd step(d);
    for (Eigen::Index e = 0; e < d; ++e) step[e] = coordinate(s[e], ge[e], s);
    Eigen::Map<Eigen::VectorXd>(delta.data() + b * d, d) = eigen.eigenvectors() * step;
  });
  return from_vector(delta, grad.shape(), grad.dtype(), grad.device());
}

BatchedDerivatives detached(const BatchedDerivatives& at) {
  return {at.loss.detach(), at.grad.detach(), at.hessian.detach()};
}

}  // namespace

BatchedDerivatives batched_hessian(const BatchedObjective& f, const Tensor& x) {
  DPHYS_CHECK(x.dim() == 2, "batched_hessian: x has shape {}; expected [B, d]", shape_str(x.shape()));
  const auto [loss, gradient] = batched_value_and_grad(f, x);
  const Tensor hessian = batched_jacobian(
      [&](const Tensor& z) { return grad([&](const Tensor& w) { return sum(f(w)); }, z); }, x);
  return detached({loss, gradient, hessian});
}

Tensor newton_direction(const Tensor& grad, const Tensor& hessian, const NewtonOptions& options) {
  DPHYS_CHECK(std::isfinite(options.damping) && options.damping >= 0.0,
              "newton_direction: damping {} must be finite and >= 0", options.damping);
  DPHYS_CHECK(std::isfinite(options.rcond) && options.rcond >= 0.0,
              "newton_direction: rcond {} must be finite and >= 0", options.rcond);
  const double lambda = options.damping;
  return eigen_direction("newton_direction", grad, hessian,
                         [&](double s, double ge, const Eigen::VectorXd& all) {
                           const double largest = (all.array() + lambda).abs().maxCoeff();
                           const double c = s + lambda;
                           return std::abs(c) > options.rcond * largest ? -ge / c : 0.0;
                         });
}

Tensor saddle_free_newton_direction(const Tensor& grad, const Tensor& hessian,
                                    const SaddleFreeOptions& options) {
  DPHYS_CHECK(std::isfinite(options.damping) && options.damping >= 0.0,
              "saddle_free_newton_direction: damping {} must be finite and >= 0", options.damping);
  DPHYS_CHECK(std::isfinite(options.min_curvature) && options.min_curvature >= 0.0,
              "saddle_free_newton_direction: min_curvature {} must be finite and >= 0",
              options.min_curvature);
  DPHYS_CHECK(options.max_loss_change > 0.0,
              "saddle_free_newton_direction: max_loss_change {} must be > 0 (infinity: no cap)",
              options.max_loss_change);
  return eigen_direction(
      "saddle_free_newton_direction", grad, hessian, [&](double s, double ge, const Eigen::VectorXd& all) {
        const double curvature = std::max(std::abs(s) + options.damping, options.min_curvature);
        double magnitude = curvature > 0.0 ? std::abs(ge) / curvature : 0.0;
        // The geometric mean of |s| (sip.md §2.3.2 writes |s₁s₂|^{1/2} for d = 2).
        const double average = std::exp(all.array().abs().log().mean());
        if (!(s > average)) magnitude = std::min(magnitude, options.max_loss_change / std::abs(ge));
        return ge > 0.0 ? -magnitude : ge < 0.0 ? magnitude : 0.0;
      });
}

NewtonStep newton_step(const BatchedObjective& f, const Tensor& x, const NewtonOptions& options) {
  const BatchedDerivatives at = batched_hessian(f, x);
  return {newton_direction(at.grad, at.hessian, options), at};
}

NewtonStep saddle_free_newton_step(const BatchedObjective& f, const Tensor& x,
                                   const SaddleFreeOptions& options) {
  const BatchedDerivatives at = batched_hessian(f, x);
  return {saddle_free_newton_direction(at.grad, at.hessian, options), at};
}

}  // namespace dphys::optim
