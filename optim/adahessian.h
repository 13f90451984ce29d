#pragma once
// AdaHessian (Yao et al. 2021) as torch-optimizer's Adahessian, the implementation the SIP paper's baseline
// used (sip.md §1.9, [R defaults]).
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "engine/random.h"
#include "optim/optimizer.h"

namespace dphys::optim {

struct AdaHessianOptions {
  double lr = 0.15;  // torch-optimizer's default; the experiments set their own
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-4;
  // θ ← θ − lr·wd·θ alongside the step (torch-optimizer applies it outside the moments).
  double weight_decay = 0.0;
  // k in [0, 1]: 1 is the full Newton-like scaling, 0.5 the default.
  double hessian_power = 0.5;
  // Seeds the Rademacher probes. The stream's position is part of state(), so a run resumed by load_state
  // draws the probes an uninterrupted one would.
  std::uint64_t seed = 0;
};

// Step t, for each parameter θ with gradient g of the loss:
//   v ∈ {±1}^n (Rademacher, one probe per step) and h = |H·v|, the Hessian–vector product of the whole loss;
//   for a 4-D convolution kernel [O, C, kh, kw], h is averaged over the two kernel axes (Hessian blocks of
//   kh·kw, 9 for 3×3), the block estimate broadcast back over them;
//   m ← β1·m + (1 − β1)·g,  s ← β2·s + (1 − β2)·h²,
//   θ ← θ − lr·( (m/(1 − β1ᵗ)) / ((√s / √(1 − β2ᵗ))^k + ε) + wd·θ ).
// Only parameters with at most 2 axes or exactly 4 are accepted: torch-optimizer defines the block for no
// other rank. State per parameter: "step" (0-d f64), "exp_avg", "exp_hessian_diag_sq"; and "probe_offset"
// ([1] i64), the probe stream's position.
class AdaHessian : public Optimizer {
 public:
  AdaHessian(std::vector<Tensor> parameters, const AdaHessianOptions& options = AdaHessianOptions());
  const AdaHessianOptions& options() const { return options_; }

  // One step: evaluates loss() (one element) while recording, differentiates it twice, replaces each
  // parameter's .grad by its gradient (undefined where the loss does not depend on it; those parameters are
  // skipped) and updates the parameters. Returns the loss before the update.
  double step(const std::function<Tensor()>& loss);

  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;

 protected:
  void update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) override;
  Shape slot_shape(std::size_t slot, const Tensor& param) const override;
  DType slot_dtype(std::size_t slot, const Tensor& param) const override;

 private:
  AdaHessianOptions options_;
  Generator generator_;
  // h for the parameters of the step in progress, by parameter.
  std::unordered_map<const TensorImpl*, Tensor> hessian_diagonal_;
};

}  // namespace dphys::optim
