#include "optim/adam.h"

#include <cmath>
#include <type_traits>

#include "autodiff/ops.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "optim/adam_step.h"

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
  // eps = 0 divides 0 by 0 wherever a gradient entry is and has been 0.
  DPHYS_CHECK(std::isfinite(options.eps) && options.eps > 0.0, "{}: eps {} must be > 0", name, options.eps);
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
  adam_step::Coefficients c;
  c.beta1 = options_.beta1;
  c.beta2 = options_.beta2;
  c.eps = options_.eps;
  c.decay_factor = decoupled_ ? 1.0 - lr() * wd : 1.0;
  c.gradient_decay = decoupled_ ? 0.0 : wd;
  c.sqrt_correction2 = std::sqrt(1.0 - std::pow(options_.beta2, t));
  c.step_scale = -lr() / (1.0 - std::pow(options_.beta1, t));
  // One pass over the parameter and its moments (a step of ten tensor ops would be ten launches on a GPU).
  DPHYS_CHECK(
      grad.dtype() == param.dtype() && grad.device() == param.device() && exp_avg.device() == param.device(),
      "Adam: the gradient ({} on {}) and the state (on {}) must match the parameter ({} on {})",
      dtype_name(grad.dtype()), grad.device().str(), exp_avg.device().str(), dtype_name(param.dtype()),
      param.device().str());
  const std::int64_t n = param.numel();
  // Written in place, as mul_ and add_ would: a graph that saved them sees the new versions.
  for (const Tensor* written : {&param, &exp_avg, &exp_avg_sq}) written->storage()->bump_version();
  if (!param.device().is_cpu()) {
    device_kernel::adam_update(param.dtype(), n, c, device_address(param), device_address(grad),
                               device_address(exp_avg), device_address(exp_avg_sq));
    return;
  }
  dispatch_floating(param.dtype(), "Adam", [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_floating_point_v<T>) {
      T *p = param.data<T>(), *m = exp_avg.data<T>(), *v = exp_avg_sq.data<T>();
      const T* g = grad.data<T>();
      parallel_for(n, 64, [&](std::int64_t i) { adam_step::update(c, p[i], g[i], m[i], v[i]); });
    }
  });
}

}  // namespace dphys::optim
