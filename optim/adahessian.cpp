#include "optim/adahessian.h"

#include <cmath>

#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

// A Rademacher vector (±1 with equal probability) of x's shape and dtype.
Tensor rademacher_like(const Tensor& x, Generator& generator) {
  const std::uint64_t first = generator.advance(static_cast<std::uint64_t>(x.numel()));
  std::vector<double> values(static_cast<std::size_t>(x.numel()));
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = (Generator::bits(generator.seed(), first + i) & 1u) ? 1.0 : -1.0;
  return from_vector(values, x.shape(), x.dtype(), x.device());
}

}  // namespace

AdaHessian::AdaHessian(std::vector<Tensor> parameters, const AdaHessianOptions& options)
    : Optimizer(std::move(parameters), options.lr, {"step", "exp_avg", "exp_hessian_diag_sq"}),
      options_(options),
      generator_(options.seed) {
  DPHYS_CHECK(options.beta1 >= 0.0 && options.beta1 < 1.0 && options.beta2 >= 0.0 && options.beta2 < 1.0,
              "AdaHessian: betas ({}, {}) must lie in [0, 1)", options.beta1, options.beta2);
  DPHYS_CHECK(std::isfinite(options.eps) && options.eps >= 0.0, "AdaHessian: eps {} must be >= 0",
              options.eps);
  DPHYS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0,
              "AdaHessian: weight_decay {} must be >= 0", options.weight_decay);
  DPHYS_CHECK(options.hessian_power >= 0.0 && options.hessian_power <= 1.0,
              "AdaHessian: hessian_power {} must lie in [0, 1]", options.hessian_power);
  for (std::size_t i = 0; i < this->parameters().size(); ++i) {
    const Tensor& p = this->parameters()[i];
    DPHYS_CHECK(
        p.dim() <= 2 || p.dim() == 4,
        "AdaHessian: parameter {} has shape {}; the Hessian blocks are defined for tensors with at most 2 "
        "axes (single elements) and 4-D convolution kernels (averaged over the last two axes)",
        i, shape_str(p.shape()));
  }
}

NamedTensors AdaHessian::state() const {
  NamedTensors out = Optimizer::state();
  out.emplace_back("probe_offset", from_indices({static_cast<std::int64_t>(generator_.offset())}, {1}));
  return out;
}

void AdaHessian::load_state(const NamedTensors& state) {
  NamedTensors rest;
  Tensor offset;
  for (const auto& [name, tensor] : state) {
    if (name != "probe_offset") {
      rest.emplace_back(name, tensor);
      continue;
    }
    DPHYS_CHECK(tensor.defined(), "AdaHessian::load_state: entry 'probe_offset' is an undefined tensor");
    DPHYS_CHECK(!offset.defined(), "AdaHessian::load_state: 'probe_offset' appears twice");
    offset = tensor;
  }
  DPHYS_CHECK(offset.defined(), "AdaHessian::load_state: the state has no 'probe_offset' entry");
  DPHYS_CHECK(offset.dtype() == DType::i64 && offset.shape() == Shape{1},
              "AdaHessian::load_state: 'probe_offset' has shape {} and dtype {}, expected [1] i64",
              shape_str(offset.shape()), dtype_name(offset.dtype()));
  const std::int64_t position = offset.to(Device::cpu()).to_vector<std::int64_t>()[0];
  DPHYS_CHECK(position >= 0, "AdaHessian::load_state: 'probe_offset' is negative ({})", position);
  Optimizer::load_state(rest);  // validates before changing anything; the offset is set only after it
  generator_.set_offset(static_cast<std::uint64_t>(position));
}

double AdaHessian::step(const std::function<Tensor()>& loss) {
  const std::vector<Tensor>& params = parameters();
  Tensor value;
  {
    GradModeGuard recording(true);
    value = loss();
  }
  DPHYS_CHECK(value.defined() && value.numel() == 1,
              "AdaHessian::step: the loss has shape {}; expected one element",
              value.defined() ? shape_str(value.shape()) : "undefined");
  std::vector<Tensor> grads(params.size());
  if (value.requires_grad()) {
    BackwardOptions record;
    record.create_graph = true;
    grads = run_backward({value}, {Tensor()}, params, record);
  }

  // One probe over all parameters with a gradient; Σ_i ⟨g_i, v_i⟩ differentiated once more gives H·v.
  Tensor inner;
  {
    GradModeGuard recording(true);
    for (const Tensor& g : grads) {
      if (!g.defined()) continue;
      const Tensor v = rademacher_like(g, generator_);
      if (!g.requires_grad()) continue;
      const Tensor term = sum(g * v);
      inner = inner.defined() ? inner + term : term;
    }
  }
  std::vector<Tensor> hv(params.size());
  if (inner.defined()) hv = run_backward({inner}, {Tensor()}, params, BackwardOptions());

  NoGradGuard no_grad;
  hessian_diagonal_.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    params[i].set_grad(grads[i].defined() ? grads[i].detach() : Tensor());
    if (!grads[i].defined()) continue;
    // |H·v| estimates |diag(H)| (with v ∈ {±1}, |Hv ⊙ v| = |Hv|); a kernel shares one estimate per (O, C)
    // block.
    Tensor h = hv[i].defined() ? abs(hv[i]) : zeros_like(params[i]);
    if (h.dim() == 4) h = mean(h, {2, 3}, true);
    hessian_diagonal_[params[i].impl_ptr().get()] = h;
  }
  Optimizer::step();
  hessian_diagonal_.clear();
  return value.item();
}

Shape AdaHessian::slot_shape(std::size_t slot, const Tensor& param) const {
  return slot == 0 ? Shape{} : param.shape();
}

DType AdaHessian::slot_dtype(std::size_t slot, const Tensor& param) const {
  return slot == 0 ? DType::f64 : param.dtype();
}

void AdaHessian::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  const auto found = hessian_diagonal_.find(param.impl_ptr().get());
  DPHYS_CHECK(
      found != hessian_diagonal_.end(),
      "AdaHessian: parameter of shape {} has a gradient but no Hessian estimate; call step(loss), not the "
      "first-order Optimizer::step()",
      shape_str(param.shape()));
  const Tensor& h = found->second;
  if (slots.empty()) slots = {scalar(0.0, DType::f64), zeros_like(param), zeros_like(param)};
  Tensor& step = slots[0];
  Tensor& exp_avg = slots[1];
  Tensor& exp_hessian_diag_sq = slots[2];
  const double t = step.item() + 1.0;
  step.fill_(t);

  exp_avg.mul_(options_.beta1);
  exp_avg.add_(grad, 1.0 - options_.beta1);
  exp_hessian_diag_sq.mul_(options_.beta2);
  exp_hessian_diag_sq.add_(broadcast_to(h * h, param.shape()), 1.0 - options_.beta2);

  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  const double k = options_.hessian_power;
  const Tensor denom =
      pow(sqrt(exp_hessian_diag_sq), k) / std::pow(std::sqrt(bias_correction2), k) + options_.eps;
  param.add_(exp_avg / bias_correction1 / denom + options_.weight_decay * param, -lr());
}

}  // namespace dphys::optim
