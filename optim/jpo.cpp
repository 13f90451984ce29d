#include "optim/jpo.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "optim/clip.h"

namespace dphys::optim {

namespace {

std::vector<double> host_f64(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

}  // namespace

JpoTrainer::JpoTrainer(nn::Module& network, Tensor network_input, OutputMap output_map,
                       BatchedObjective objective, Optimizer& optimizer, JpoOptions options)
    : network_(network),
      input_(std::move(network_input)),
      output_map_(std::move(output_map)),
      objective_(std::move(objective)),
      optimizer_(optimizer),
      options_(options) {
  DPHYS_CHECK(input_.defined() && input_.dim() >= 1 && input_.size(0) >= 1,
              "JpoTrainer: the network input needs a leading problem axis, got shape {}",
              input_.defined() ? shape_str(input_.shape()) : std::string("(undefined)"));
  DPHYS_CHECK(options_.physics_dtype == DType::f32 || options_.physics_dtype == DType::f64,
              "JpoTrainer: physics_dtype must be f32 or f64, got {}", dtype_name(options_.physics_dtype));
  DPHYS_CHECK(options_.clip_quantile >= 0 && options_.clip_quantile <= 1,
              "JpoTrainer: clip_quantile {} must lie in [0, 1]", options_.clip_quantile);
}

JpoStepReport JpoTrainer::step() {
  const std::int64_t problems = input_.size(0);
  GradModeGuard record(true);
  const Tensor x = cast(output_map_(network_(input_)), options_.physics_dtype);
  DPHYS_CHECK(x.dim() == 2 && x.size(0) == problems,
              "JpoTrainer: the output map returned shape {}; expected solutions [{}, d]",
              shape_str(x.shape()), problems);
  const std::int64_t d = x.size(1);
  auto [loss, grad] = batched_value_and_grad(objective_, x.detach());
  if (!grad.defined()) grad = zeros(x.shape(), x.dtype(), x.device());

  if (!best_x_.defined()) {
    best_x_ = full(x.shape(), std::numeric_limits<double>::quiet_NaN(), x.dtype(), x.device());
    best_loss_ = full({problems}, std::numeric_limits<double>::infinity(), DType::f64, x.device());
  }
  DPHYS_CHECK(best_x_.shape() == x.shape(), "JpoTrainer: the solutions changed shape from {} to {}",
              shape_str(best_x_.shape()), shape_str(x.shape()));

  JpoStepReport report;
  const std::vector<double> losses = host_f64(loss), solutions = host_f64(x.detach());
  std::vector<double> gradients = host_f64(grad), best_losses = host_f64(best_loss_),
                      best = host_f64(best_x_);
  for (std::int64_t i = 0; i < problems; ++i) {
    bool finite = std::isfinite(losses[i]);
    for (std::int64_t k = 0; k < d; ++k) finite = finite && std::isfinite(gradients[i * d + k]);
    if (!finite) {
      // A NaN row is what the percentile clip zeroes and leaves out of the threshold.
      ++report.non_finite;
      for (std::int64_t k = 0; k < d; ++k) gradients[i * d + k] = std::numeric_limits<double>::quiet_NaN();
    } else {
      report.total_loss += losses[i];
    }
    if (std::isfinite(losses[i]) && losses[i] < best_losses[i]) {
      ++report.improved;
      best_losses[i] = losses[i];
      for (std::int64_t k = 0; k < d; ++k) best[i * d + k] = solutions[i * d + k];
    }
    if (std::isfinite(best_losses[i])) report.best_total_loss += best_losses[i];
  }
  if (report.non_finite > 0) report.total_loss = std::numeric_limits<double>::infinity();
  best_loss_ = from_vector(best_losses, {problems}, DType::f64, x.device());
  best_x_ = cast(from_vector(best, x.shape(), DType::f64, x.device()), x.dtype());

  // Clipped where the gradients already are, on the host; the cotangent then goes to x's device.
  const PercentileClip clipped =
      clip_per_example_percentile(from_vector(gradients, x.shape(), DType::f64), options_.clip_quantile);
  report.clip_threshold = clipped.threshold;
  optimizer_.zero_grad();
  backward(x, cast(clipped.gradients.to(x.device()), x.dtype()));
  optimizer_.step();
  return report;
}

QuasiNewtonResult JpoTrainer::refine(const BfgsOptions& options) const {
  DPHYS_CHECK(best_x_.defined(), "JpoTrainer::refine: no estimates yet; call step() first");
  return bfgs_minimize(objective_, best_x_, options);
}

Improvement improvement_over_bfgs(const Tensor& method_losses, const Tensor& bfgs_losses,
                                  double relative_tolerance, double absolute_tolerance) {
  DPHYS_CHECK(
      method_losses.dim() == 1 && method_losses.shape() == bfgs_losses.shape() && method_losses.numel() > 0,
      "improvement_over_bfgs: expected two loss vectors [N] of one shape, got {} and {}",
      shape_str(method_losses.shape()), shape_str(bfgs_losses.shape()));
  DPHYS_CHECK(relative_tolerance >= 0 && absolute_tolerance >= 0,
              "improvement_over_bfgs: tolerances must be ≥ 0, got {} and {}", relative_tolerance,
              absolute_tolerance);
  const std::vector<double> method = host_f64(method_losses), reference = host_f64(bfgs_losses);
  Improvement result;
  for (std::size_t i = 0; i < method.size(); ++i) {
    const double m = method[i], b = reference[i];
    if (!std::isfinite(m) || !std::isfinite(b)) {
      if (std::isfinite(m) == std::isfinite(b))
        ++result.equal;
      else if (std::isfinite(m))
        ++result.better;
      else
        ++result.worse;
      continue;
    }
    if (std::abs(m - b) <= relative_tolerance * std::max(std::abs(m), std::abs(b)) + absolute_tolerance)
      ++result.equal;
    else if (m < b)
      ++result.better;
    else
      ++result.worse;
  }
  const double n = static_cast<double>(method.size());
  result.fraction = static_cast<double>(result.better) / n + static_cast<double>(result.equal) / (2 * n);
  return result;
}

}  // namespace dphys::optim
