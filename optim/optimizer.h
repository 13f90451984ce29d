#pragma once
// First-order optimizers over a list of parameters (leaf tensors that require grad). A training step is
// zero_grad(), backward(loss), step(); step() reads each parameter's .grad and updates it in place.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "nn/module.h"

namespace dphys::optim {

using nn::NamedTensors;

class Optimizer {
 public:
  // `slot_names`: the per-parameter state a subclass keeps (e.g. "exp_avg"), created on a parameter's first
  // update; checkpoints are validated against it.
  Optimizer(std::vector<Tensor> parameters, double lr, std::vector<std::string> slot_names);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter from its .grad; parameters without a gradient are skipped (their state too).
  void step();
  // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& parameters() const { return parameters_; }

  // A checkpoint: "lr" (0-d f64) and "param.<i>.<slot>" for every parameter i that has been updated. The
  // tensors are copies. save_tensors / load_tensors (nn/serialize.h) write and read it.
  // Optimizers with further state (AdaHessian's probe stream) add entries of their own.
  virtual NamedTensors state() const;
  // Restores a checkpoint taken from an optimizer of the same kind over parameters of the same shapes and
  // dtypes. Validates every name, shape and dtype first: on error nothing changes.
  virtual void load_state(const NamedTensors& state);

 protected:
  // One update of `param` with `grad` (same shape), run under NoGradGuard. `slots` holds the parameter's
  // state in the order of slot_names; it is empty before the first update, which must fill it.
  virtual void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) = 0;
  // The shape and dtype slot `slot` must have for `param` (default: those of the parameter).
  virtual Shape slot_shape(std::size_t slot, const Tensor& param) const;
  virtual DType slot_dtype(std::size_t slot, const Tensor& param) const;

 private:
  std::vector<Tensor> parameters_;
  double lr_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;
};

}  // namespace dphys::optim
