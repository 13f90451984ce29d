#pragma once
// Joint parameterized optimization (JPO; Holl & Thuerey 2024, ../shared/experiments/jpo.md §2): N inverse
// problems x_i* = argmin_x L_i(x) are solved jointly by one network whose output for problem i is its
// solution, x_i = φ(N(input_i; θ)). The network minimises the plain sum Σ_i L_i over the full problem set,
// with each problem's solution-space gradient clipped at a percentile of the set's gradient norms before it
// reaches the network; the best iterate of every problem is kept, and BFGS refines it on the true loss.
#include <functional>

#include "nn/module.h"
#include "optim/bfgs.h"
#include "optim/optimizer.h"

namespace dphys::optim {

// φ: raw network outputs [N, ...] -> solutions [N, d] (e.g. the scaled tanh of bounded parameters, §2.2).
using OutputMap = std::function<Tensor(const Tensor& raw)>;

struct JpoOptions {
  // Per-problem clipping of ∂L_i/∂x_i at this quantile of the set's finite gradient norms (§2.3); a
  // quantile ≥ 1 keeps every gradient (the largest norm is the threshold).
  double clip_quantile = 0.9;
  // The solutions reach the physics in this dtype (f64: networks in f32, physics and metrics in f64, §2.8).
  DType physics_dtype = DType::f64;
};

struct JpoStepReport {
  double total_loss = 0.0;       // Σ_i L_i(x_i) at this step's network output, before the update
  double best_total_loss = 0.0;  // Σ_i of the best losses so far, including this step
  double clip_threshold = 0.0;   // τ
  std::int64_t improved = 0;     // problems whose best estimate this step replaced
  std::int64_t non_finite = 0;   // problems with a non-finite loss or gradient (left out of the update)
};

// Full-batch JPO training (the loop of §2.7 before refinement). The network, optimizer and the tensors
// passed in are held by reference; `objective` gets solutions [N, d] in physics_dtype and returns [N].
class JpoTrainer {
 public:
  JpoTrainer(nn::Module& network, Tensor network_input, OutputMap output_map, BatchedObjective objective,
             Optimizer& optimizer, JpoOptions options = {});
  // One iteration: forward all N problems, track the best estimates, clip, backpropagate into θ, step.
  JpoStepReport step();
  // The per-problem argmin over all iterations so far: solutions [N, d] and losses [N] (+∞ before the first
  // step and for problems never finite).
  const Tensor& best_solutions() const { return best_x_; }
  const Tensor& best_losses() const { return best_loss_; }
  // BFGS on each problem's true loss from its best estimate (§2.6, §3.5).
  QuasiNewtonResult refine(const BfgsOptions& options = {}) const;

 private:
  nn::Module& network_;
  Tensor input_;
  OutputMap output_map_;
  BatchedObjective objective_;
  Optimizer& optimizer_;
  JpoOptions options_;
  Tensor best_x_, best_loss_;
};

// How a method's per-problem losses compare with BFGS's (§12): problem i is equal when
// |L_m − L_BFGS| ≤ rel·max(|L_m|, |L_BFGS|) + abs, better when L_m < L_BFGS and not equal, worse otherwise
// (a non-finite loss loses against a finite one; two non-finite losses are equal).
struct Improvement {
  std::int64_t better = 0, equal = 0, worse = 0;
  // f_N = N_better / N + N_equal / (2N): half of the ties count.
  double fraction = 0.0;
};
Improvement improvement_over_bfgs(const Tensor& method_losses, const Tensor& bfgs_losses,
                                  double relative_tolerance = 1e-6, double absolute_tolerance = 1e-12);

}  // namespace dphys::optim
