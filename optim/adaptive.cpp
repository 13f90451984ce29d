#include "optim/adaptive.h"

#include <cmath>

#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

void check_common(const char* name, double eps, double weight_decay) {
  // eps = 0 divides 0 by 0 wherever a gradient entry is and has been 0.
  DPHYS_CHECK(std::isfinite(eps) && eps > 0.0, "{}: eps {} must be > 0", name, eps);
  DPHYS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0, "{}: weight_decay {} must be >= 0", name,
              weight_decay);
}

Tensor decayed(const Tensor& grad, const Tensor& param, double weight_decay) {
  return weight_decay != 0.0 ? grad + weight_decay * param : grad;
}

}  // namespace

Adagrad::Adagrad(std::vector<Tensor> parameters, const AdagradOptions& options)
    : Optimizer(std::move(parameters), options.lr, {"sum"}), options_(options) {
  check_common("Adagrad", options.eps, options.weight_decay);
}

void Adagrad::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  const Tensor g = decayed(grad, param, options_.weight_decay);
  if (slots.empty()) slots.push_back(zeros_like(param));
  slots[0].add_(g * g);
  param.add_(g / (sqrt(slots[0]) + options_.eps), -lr());
}

RMSprop::RMSprop(std::vector<Tensor> parameters, const RMSpropOptions& options)
    : Optimizer(std::move(parameters), options.lr, {"square_avg"}), options_(options) {
  check_common("RMSprop", options.eps, options.weight_decay);
  DPHYS_CHECK(options.alpha >= 0.0 && options.alpha < 1.0, "RMSprop: alpha {} must lie in [0, 1)",
              options.alpha);
}

void RMSprop::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  const Tensor g = decayed(grad, param, options_.weight_decay);
  if (slots.empty()) slots.push_back(zeros_like(param));
  slots[0].mul_(options_.alpha).add_(g * g, 1.0 - options_.alpha);
  param.add_(g / (sqrt(slots[0]) + options_.eps), -lr());
}

Adadelta::Adadelta(std::vector<Tensor> parameters, const AdadeltaOptions& options)
    : Optimizer(std::move(parameters), options.lr, {"square_avg", "acc_delta"}), options_(options) {
  check_common("Adadelta", options.eps, options.weight_decay);
  DPHYS_CHECK(options.rho >= 0.0 && options.rho <= 1.0, "Adadelta: rho {} must lie in [0, 1]", options.rho);
}

void Adadelta::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  const Tensor g = decayed(grad, param, options_.weight_decay);
  if (slots.empty()) {
    slots.push_back(zeros_like(param));
    slots.push_back(zeros_like(param));
  }
  const double rho = options_.rho, eps = options_.eps;
  slots[0].mul_(rho).add_(g * g, 1.0 - rho);
  const Tensor delta = sqrt(slots[1] + eps) / sqrt(slots[0] + eps) * g;
  slots[1].mul_(rho).add_(delta * delta, 1.0 - rho);
  param.add_(delta, -lr());
}

}  // namespace dphys::optim
