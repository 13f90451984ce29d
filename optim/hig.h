#pragma once
// Half-inverse gradients (HIG; Schnell, Holl & Thuerey, ICLR 2022; ../shared/experiments/hig.md §1.2–1.4).
// A network N is followed by a physics stage S; y_b = S(N(z_b; θ)) are the loss-producing outputs. Each step
// stacks the Jacobian J = ∂y/∂θ of all examples (rows) with respect to all weights (columns), takes its thin
// SVD J = U Λ Vᵀ and updates
//     θ ← θ + η · s₁^β · V Λ^κ Uᵀ Δy,   Δy = −∂L/∂y (stacked over examples, L = c_b Σ_b ℓ_b),
// over the modes kept by the truncation τ. κ = −1/2 is HIG, κ = −1 Gauss–Newton (V Λ⁻¹ Uᵀ = J⁺), κ = 1
// gradient descent (V Λ Uᵀ = Jᵀ). Examples are solved jointly: nothing is averaged over the batch.
#include <cstdint>
#include <functional>

#include "nn/module.h"
#include "optim/problem.h"
#include "optim/trainers.h"

namespace dphys::optim {

// The physics stage: network output [B, ...] and per-example state (undefined when the step got none) ->
// loss-producing outputs y [B, ...]. Example b of y may depend only on example b of its arguments.
using HigPhysics = std::function<Tensor(const Tensor& network_output, const Tensor& state)>;
// Per-example loss ℓ(y_b, ŷ_b), shape [B].
using HigLoss = std::function<Tensor(const Tensor& y, const Tensor& target)>;

// How the stacked Jacobian is built. On HIG Poisson (bench/hig_step.cpp: batch 64, 4096 rows × 41,408
// weights, an idle 2-core EPYC) per_example takes 0.25 s on 2 threads (0.43 s on one), whole_batch 1.7 s
// (2.4 s). Forward-mode JVPs per weight would need P = 41,408 passes instead of 4096.
enum class JacobianMethod {
  // per_example, unless the network couples examples: a module in training mode with buffers (BatchNorm).
  automatic,
  // Each example runs through network and physics alone (batch of one); its n_y rows come from n_y reverse
  // passes over that retained graph. B·n_y reverse passes of a batch of one; examples run in parallel.
  per_example,
  // One forward pass of the batch, then B·n_y reverse passes over the whole batch's graph, each with a
  // one-hot cotangent. Each pass costs a full batch; right also when examples are coupled.
  whole_batch,
};

struct StackedJacobian {
  // [B·n_y, P] f64: row b·n_y + k is ∂y_{b,k}/∂θ (y_b flattened), the columns are the network's parameters
  // flattened in named_parameters order.
  Tensor jacobian;
  // y [B, ...], without gradient history.
  Tensor output;
};
StackedJacobian stacked_jacobian(nn::Module& network, const HigPhysics& physics, const Tensor& input,
                                 const Tensor& state = Tensor(),
                                 JacobianMethod method = JacobianMethod::automatic);

enum class HigSolver {
  // gram when rows ≤ columns / 4 and the truncation is relative with τ ≥ max(√(rows · ε_f64), 30 √ε_f64)
  // (the Gram route's floor, below, and its accuracy: the smallest kept s² is then within about 1/900 of its
  // value), svd otherwise.
  automatic,
  // Thin SVD of J (kernel::svd).
  svd,
  // Eigendecomposition J·Jᵀ = U Λ² Uᵀ (kernel::gram, kernel::eigh); then V = Jᵀ U Λ⁻¹, so
  // V Λ^κ Uᵀ = Jᵀ U Λ^(κ−1) Uᵀ (hig.md §1.4). Both routes are O(rows²·P), but J·Jᵀ is one matrix product
  // and the eigensolver works on rows × rows: 8× faster than BDCSVD at 1024 × 10352. Forming J·Jᵀ
  // squares the condition number, so eigenvalues below rows · ε_f64 · λ_max (NumPy's matrix_rank
  // tolerance) count as zero: singular values below √(rows · ε_f64) · s₁ (1e-6 s₁ at 4096 rows) are dropped.
  gram,
};

struct JacobianPowerOptions {
  double kappa = -0.5;
  // Prefactor s₁^β of the ablation family (hig.md §1.9, App. C); 0 gives plain J^κ.
  double beta = 0.0;
  // τ: a mode is kept iff s_k > τ · s₁ (relative, the reference code's rule, hig.md A1), or iff s_k > τ with
  // absolute_truncation (the paper's wording). Modes with s_k = 0 are always dropped.
  double truncation = 1e-6;
  bool absolute_truncation = false;
  HigSolver solver = HigSolver::automatic;
};

struct JacobianPower {
  // s₁^β · V Λ^κ Uᵀ v over the kept modes, [P] f64.
  Tensor result;
  // J's singular values, descending, [min(rows, P)] f64 (gram route: square roots of the eigenvalues of
  // J·Jᵀ, negative rounding clamped to 0).
  Tensor singular_values;
  std::int64_t kept = 0;
  HigSolver solver = HigSolver::svd;  // the route taken
};
// J^κ v for J [rows, P] (f32 or f64) and v [rows]; computed in f64.
JacobianPower apply_jacobian_power(const Tensor& jacobian, const Tensor& v,
                                   const JacobianPowerOptions& options = {});

struct HigOptions {
  double lr = 1.0;  // η
  JacobianPowerOptions power;
  // c_b: mean (1/b) for the toy, oscillator and dipole experiments, sum (1) for Poisson (hig.md A2).
  BatchReduction reduction = BatchReduction::mean;
  JacobianMethod jacobian = JacobianMethod::automatic;
};

struct HigReport {
  double loss = 0.0;  // REDUCE_b ℓ_b before the update
  std::int64_t rows = 0, kept = 0;
  double largest_singular_value = 0.0, smallest_kept_singular_value = 0.0;
  double update_norm = 0.0;  // ‖θ_new − θ_old‖
  HigSolver solver = HigSolver::svd;
  double jacobian_ms = 0.0, solve_ms = 0.0;  // stacking J; the half-inversion (SVD or Gram route)
};

// One HIG step per call, updating the network's parameters in place (hig.md §1.3 with step 7 as
// θ ← θ + η · J^κ Δy). The network and problem are held by reference.
class HigTrainer {
 public:
  HigTrainer(nn::Module& network, HigPhysics physics, HigLoss loss, HigOptions options = {});
  // y = problem.forward(network(input)), ℓ = problem.loss(y, target).
  HigTrainer(nn::Module& network, const PhysicsProblem& problem, HigOptions options = {});
  // `input` is the network's input [B, ...], `target` the loss's ŷ, `state` optional per-example data for
  // the physics [B, ...].
  HigReport step(const Tensor& input, const Tensor& target, const Tensor& state = Tensor());
  // Learning rate schedules and sweeps change the options between steps.
  HigOptions& options() { return options_; }

 private:
  nn::Module& network_;
  HigPhysics physics_;
  HigLoss loss_;
  HigOptions options_;
};

}  // namespace dphys::optim
