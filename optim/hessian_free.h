#pragma once
// Hessian-free optimisation (Martens 2010), as the PyTorchHessianFree library the SIP paper's baseline used
// (sip.md §1.9, library defaults): each step solves (B + λI)·d = −g by truncated CG on curvature-vector
// products, B the Hessian or the generalised Gauss–Newton matrix, then picks a CG iterate by backtracking,
// scales it by an Armijo line search and adapts λ by the Levenberg–Marquardt rule.
#include <functional>
#include <vector>

#include "engine/tensor.h"
#include "nn/module.h"

namespace dphys::optim {

using nn::NamedTensors;

struct HessianFreeOptions {
  // The line search's first step size (the constant step when line_search is off).
  double lr = 1.0;
  // λ₀, the Tikhonov damping added to the curvature.
  double damping = 1.0;
  // Levenberg–Marquardt (Martens 2010 §4.1): ρ = (f(θ + d) − f(θ)) / q(d) for the last CG iterate d, with
  // q(d) = gᵀd + ½dᵀ(B + λI)d the damped model CG minimises; ρ < 0.25 → λ ← 1.5λ, ρ > 0.75 → λ ← (2/3)λ.
  // (PyTorchHessianFree measures both differences from the CG warm start instead of from θ.)
  bool adapt_damping = true;
  int cg_max_iterations = 250;
  // CG also stops when ‖residual‖ < cg_tolerance·‖g‖, and by Martens' relative-progress rule: at iteration i
  // with k = max(10, i/10) < i, when (q_i − q_{i−k}) / (q_i − q_0) < 1e-4.
  double cg_tolerance = 1e-5;
  // The next CG starts from this fraction of the last CG solution (Martens 2010 §10).
  double cg_warm_start_decay = 0.95;
  // Go back from the last CG iterate through the iterates stored at i = ⌈1.3ʲ⌉ − 1 while f keeps decreasing
  // (Martens 2010 §4.6) and take the best one seen.
  bool cg_backtracking = true;
  // Armijo backtracking: α ← lr, then α ← 0.8α until f(θ + αd) ≤ f(θ) + 0.01·α·gᵀd, at most 20 trials;
  // α = 0 (no move) when none passes.
  bool line_search = true;
};

struct HessianFreeReport {
  double loss = 0.0;      // f before the step
  double new_loss = 0.0;  // f after it
  double damping = 0.0;   // λ the CG solve used
  int cg_iterations = 0;
  int cg_iterate = 0;      // the CG iteration whose iterate was taken
  double step_size = 0.0;  // α
  double rho = 0.0;        // the reduction ratio (NaN when damping is not adapted)
};

// Works on a fixed list of parameters (leaf tensors that require grad, f32 or f64), which it updates in
// place. Closures read the parameters directly and are called several times per step (graph building,
// CG-iterate backtracking, line search); they must be deterministic.
class HessianFree {
 public:
  using Closure = std::function<Tensor()>;
  using OutputLoss = std::function<Tensor(const Tensor&)>;

  HessianFree(std::vector<Tensor> parameters, const HessianFreeOptions& options = HessianFreeOptions());

  // Hessian curvature: Bv = ∇²f·v by reverse over reverse through `loss` (one element).
  HessianFreeReport step(const Closure& loss);
  // Generalised Gauss–Newton curvature split at z = outputs(), with f = output_loss(z) (one element): Gv =
  // Jᵀ·∇²ℓ(z)·J·v, J = ∂z/∂θ. Positive semi-definite whenever ℓ is convex in z (e.g. ½‖P(z) − y*‖² with
  // linear P, the SIP baseline's split at the network output).
  HessianFreeReport step(const Closure& outputs, const OutputLoss& output_loss);

  // A checkpoint: "damping" (0-d f64, λ) and, after the first step, "warm_start.<i>" for every parameter i
  // (the next CG's starting point). The tensors are copies.
  NamedTensors state() const;
  // Restores state() taken over parameters of the same shapes, dtypes and devices. Validates everything
  // first: on error nothing changes.
  void load_state(const NamedTensors& state);

  double damping() const { return damping_; }
  void set_damping(double damping);
  const HessianFreeOptions& options() const { return options_; }
  const std::vector<Tensor>& parameters() const { return parameters_; }

 private:
  using Vectors = std::vector<Tensor>;
  HessianFreeReport run(const Vectors& grad, const std::function<Vectors(const Vectors&)>& curvature,
                        const std::function<double()>& evaluate, double loss);

  std::vector<Tensor> parameters_;
  HessianFreeOptions options_;
  double damping_;
  Vectors warm_start_;  // empty before the first step
};

}  // namespace dphys::optim
