#include "optim/adam.h"

#include <cmath>

#include "autodiff/ops.h"

namespace dphys::optim {

Adam::Adam(std::vector<Tensor> parameters, const AdamOptions& options)
    : Adam(std::move(parameters), options, false) {}

Adam::Adam(std::vector<Tensor> parameters, const AdamOptions& options, bool decoupled_weight_decay)
    : Optimizer(std::move(parameters), options.lr, {"step", "exp_avg", "exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled_weight_decay) {
  const char* name = decoupled_ ? "AdamW" : "Adam";
  DPHYS_CHECK(options.beta1 >= 0.0 && options.beta1 < 1.0 && options.beta2 >= 0.0 && options.beta2 < 1.0,
              "{}: betas ({}, {}) must lie in [0, 1)", name, options.beta1, options.beta2);
  DPHYS_CHECK(std::isfinite(options.eps) && options.eps >= 0.0, "{}: eps {} must be >= 0", name, options.eps);
  DPHYS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0,
              "{}: weight_decay {} must be >= 0", name, options.weight_decay);
}

AdamW::AdamW(std::vector<Tensor> parameters, const AdamWOptions& options)
    : Adam(std::move(parameters), options, true) {}

Shape Adam::slot_shape(std::size_t slot, const Tensor& param) const {
  return slot == 0 ? Shape{} : param.shape();
}

DType Adam::slot_dtype(std::size_t slot, const Tensor& param) const {
  return slot == 0 ? DType::f64 : param.dtype();
}

void Adam::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  if (slots.empty()) slots = {scalar(0.0, DType::f64), zeros_like(param), zeros_like(param)};
  Tensor& step = slots[0];
  Tensor& exp_avg = slots[1];
  Tensor& exp_avg_sq = slots[2];
  const double t = step.item() + 1.0;
  step.fill_(t);

  const double wd = options_.weight_decay;
  Tensor g = grad;
  if (decoupled_) {
    param.mul_(1.0 - lr() * wd);
  } else if (wd != 0.0) {
    g = grad + wd * param;
  }
  exp_avg.mul_(options_.beta1);
  exp_avg.add_(g, 1.0 - options_.beta1);
  exp_avg_sq.mul_(options_.beta2);
  exp_avg_sq.add_(g * g, 1.0 - options_.beta2);

  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  const Tensor denom = sqrt(exp_avg_sq) / std::sqrt(bias_correction2) + options_.eps;
  param.add_(exp_avg / denom, -lr() / bias_correction1);
}

}  // namespace dphys::optim
