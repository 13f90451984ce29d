#pragma once
// Stochastic gradient descent with momentum, PyTorch's torch.optim.SGD with dampening 0.
#include "optim/optimizer.h"

namespace dphys::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  // L2 penalty added to the gradient: g ← g + weight_decay·θ.
  double weight_decay = 0.0;
  // Nesterov momentum (Sutskever et al. 2013, as reformulated by PyTorch); needs momentum > 0.
  bool nesterov = false;
};

// With g = ∇θ + wd·θ: b ← g on the first step, then b ← μ·b + g; the step direction is d = g + μ·b
// (Nesterov) or d = b; θ ← θ − lr·d. Without momentum d = g. State: "momentum_buffer" when momentum > 0.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> parameters, const SGDOptions& options);
  const SGDOptions& options() const { return options_; }

 protected:
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;

 private:
  SGDOptions options_;
};

}  // namespace dphys::optim
