#pragma once
// Per-coordinate step sizes from the history of squared gradients: Adagrad (Duchi et al. 2011), RMSprop
// (Tieleman & Hinton 2012) and Adadelta (Zeiler 2012), each with PyTorch's exact update (torch.optim,
// without the rarely used options: lr decay, momentum, centering). They are the SIP sine baselines
// (sip.md §2.3.2). With g = ∇θ + weight_decay·θ:
#include "optim/optimizer.h"

namespace dphys::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double eps = 1e-10;
  double weight_decay = 0.0;
};

// s ← s + g²;  θ ← θ − lr·g / (√s + ε).  State: "sum".
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> parameters, const AdagradOptions& options = AdagradOptions());

 protected:
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;

 private:
  AdagradOptions options_;
};

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// v ← α·v + (1 − α)·g²;  θ ← θ − lr·g / (√v + ε).  State: "square_avg".
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> parameters, const RMSpropOptions& options = RMSpropOptions());

 protected:
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;

 private:
  RMSpropOptions options_;
};

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
};

// v ← ρ·v + (1 − ρ)·g²;  Δ = √(u + ε) / √(v + ε) · g;  u ← ρ·u + (1 − ρ)·Δ²;  θ ← θ − lr·Δ.
// State: "square_avg" (v), "acc_delta" (u).
class Adadelta : public Optimizer {
 public:
  Adadelta(std::vector<Tensor> parameters, const AdadeltaOptions& options = AdadeltaOptions());

 protected:
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;

 private:
  AdadeltaOptions options_;
};

}  // namespace dphys::optim
