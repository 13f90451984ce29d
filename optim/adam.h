#pragma once
// Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (Loshchilov & Hutter 2019), with PyTorch's exact update.
#include "optim/optimizer.h"

namespace dphys::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  // Added to √v̂, outside the square root as in PyTorch. (PhiML, the JPO authors' library, uses 1e-7.)
  double eps = 1e-8;
  // Adam: L2 penalty added to the gradient. AdamW: decoupled decay θ ← θ − lr·wd·θ.
  double weight_decay = 0.0;
};

// PyTorch's AdamW default weight decay.
struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay = 1e-2; }
};

// Step t of parameter θ with gradient g (g ← g + wd·θ first for Adam's weight decay):
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
//   θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
// State per parameter: "step" (0-d f64; PyTorch counts steps per parameter), "exp_avg", "exp_avg_sq".
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> parameters, const AdamOptions& options = AdamOptions());
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::vector<Tensor> parameters, const AdamOptions& options, bool decoupled_weight_decay);
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;
  Shape slot_shape(std::size_t slot, const Tensor& param) const override;
  DType slot_dtype(std::size_t slot, const Tensor& param) const override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

// Adam with decoupled weight decay: θ ← θ·(1 − lr·wd) before the Adam step, and no decay in the moments.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> parameters, const AdamWOptions& options = AdamWOptions());
};

}  // namespace dphys::optim
