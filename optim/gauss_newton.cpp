#include "optim/gauss_newton.h"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "engine/parallel.h"
#include "engine/value_check.h"

namespace dphys::optim {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

Tensor batched_jacobian(const UnaryFunction& f, const Tensor& x) {
  DPHYS_CHECK(x.dim() == 2, "batched_jacobian: x has shape {}; expected [B, d]", shape_str(x.shape()));
  const Tensor rows = jacobian(
      [&](const Tensor& z) {
        const Tensor y = f(z);
        DPHYS_CHECK(y.defined() && y.dim() == 2 && y.size(0) == z.size(0),
                    "batched_jacobian: f maps x of shape {} to shape {}; expected [{}, m]",
                    shape_str(z.shape()), y.defined() ? shape_str(y.shape()) : "undefined", z.size(0));
        return sum(y, {0});
      },
      x);
  return permute(rows, {1, 0, 2});
}

GaussNewtonStep gauss_newton_solve(const Tensor& jacobian, const Tensor& residual, double rcond) {
  DPHYS_CHECK(
      jacobian.dim() == 3 && residual.dim() == 2 && residual.size(0) == jacobian.size(0) &&
          residual.size(1) == jacobian.size(1),
      "gauss_newton_solve: jacobian of shape {} and residual of shape {}; expected [B, m, d] and [B, m]",
      shape_str(jacobian.shape()), shape_str(residual.shape()));
  DPHYS_CHECK(is_floating(jacobian.dtype()) && !is_complex(jacobian.dtype()),
              "gauss_newton_solve: jacobian has dtype {}; expected f32 or f64", dtype_name(jacobian.dtype()));
  DPHYS_CHECK(std::isfinite(rcond) && rcond >= 0.0, "gauss_newton_solve: rcond {} must be finite and >= 0",
              rcond);
  const std::int64_t batch = jacobian.size(0), m = jacobian.size(1), d = jacobian.size(2);
  // BDCSVD gives no error for NaN (a NaN in J came back as a step of 1e294, an Inf as a zero step).
  kernel::check_finite(jacobian.detach(), fmt::format("gauss_newton_solve: the jacobian of shape {} contains "
                                                      "NaN or Inf",
                                                      shape_str(jacobian.shape())));
  kernel::check_finite(residual.detach(), fmt::format("gauss_newton_solve: the residual of shape {} contains "
                                                      "NaN or Inf",
                                                      shape_str(residual.shape())));
  const std::vector<double> j = cast(jacobian, DType::f64).to_vector<double>();
  const std::vector<double> r = cast(residual, DType::f64).to_vector<double>();
  std::vector<double> delta(static_cast<std::size_t>(batch * d), 0.0);
  std::vector<int> rank(static_cast<std::size_t>(batch), 0);
  // With no residuals or no unknowns the step is zero (Eigen's SVD of an empty matrix crashes).
  if (m == 0 || d == 0)
    return {from_vector(delta, {batch, d}, jacobian.dtype(), jacobian.device()), residual, jacobian,
            std::move(rank)};
  parallel_for(batch, m * d * std::min(m, d), [&](std::int64_t b) {
    const Eigen::Map<const RowMatrix> jb(j.data() + b * m * d, m, d);
    const Eigen::Map<const Eigen::VectorXd> rb(r.data() + b * m, m);
    const Eigen::BDCSVD<Eigen::MatrixXd> svd(jb, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    // Singular values come sorted in decreasing order; modes at or below τ·s_1 contribute nothing.
    Eigen::Index kept = 0;
    while (kept < s.size() && s[kept] > rcond * s[0]) ++kept;
    const Eigen::VectorXd coefficients =
        (svd.matrixU().leftCols(kept).transpose() * rb).cwiseQuotient(s.head(kept));
    Eigen::Map<Eigen::VectorXd>(delta.data() + b * d, d) = -(svd.matrixV().leftCols(kept) * coefficients);
    rank[static_cast<std::size_t>(b)] = static_cast<int>(kept);
  });
  return {from_vector(delta, {batch, d}, jacobian.dtype(), jacobian.device()), residual, jacobian,
          std::move(rank)};
}

GaussNewtonStep gauss_newton_step(const UnaryFunction& residual, const Tensor& x,
                                  const GaussNewtonOptions& options) {
  Tensor r;
  {
    NoGradGuard no_grad;
    r = residual(x);
  }
  return gauss_newton_solve(batched_jacobian(residual, x).detach(), r, options.rcond);
}

}  // namespace dphys::optim
