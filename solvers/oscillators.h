#pragma once
// The controlled chain of nonlinear oscillators of the HIG paper (../shared/experiments/hig.md §2.2), free
// ends, as the reference code implements it (hig.md A3):
//   ẋ_i = p_i,  ṗ_i = −x_i + k₃·[(x_{i+1} − x_i)³ + (x_{i−1} − x_i)³] + c_i·u(t),
// with the terms of missing neighbours dropped. The paper's setting, the default: two oscillators, k₃ = 1,
// c = (0, 3), Δt = 0.125, 96 steps of classical RK4 over T = 12. Units are dimensionless (unit mass and
// unit linear stiffness, so the uncoupled period is 2π).
//
// A state is [B, 2n] ordered (x_1..x_n, p_1..p_n). The control is piecewise constant: controls [B, steps],
// and step k uses u_k in all four RK4 stages (hig.md §2.2 [R]). Tensors are f32 or f64; the rollout itself
// always runs in f64.
#include <vector>

#include "engine/tensor.h"

namespace dphys {

struct OscillatorConfig {
  std::vector<double> control_weights = {0.0, 3.0};  // c; its length is the number of oscillators n
  double coupling = 1.0;                             // k₃
  double dt = 0.125;
};

// The right-hand side (ẋ, ṗ) [B, 2n] for one control value per example (control [B]).
Tensor oscillator_rate(const Tensor& state, const Tensor& control, const OscillatorConfig& config = {});
// One classical RK4 step, written with dphys ops: differentiable to any order, about 70 recorded nodes.
Tensor oscillator_step(const Tensor& state, const Tensor& control, const OscillatorConfig& config = {});
// All states s_0..s_steps of the rollout from `state` [B, 2n] under controls [B, steps]: [B, steps + 1, 2n].
// One recorded op. Its first derivative is the hand-written discrete adjoint of RK4 (exactly the gradient
// of the discrete scheme, no recorded nodes). When the derivative itself is being recorded (grad of grad,
// jvp, hvp, or grad with respect to tensors that carry history) the backward pass instead differentiates
// the oscillator_step rollout, so higher derivatives are right too, only slower.
Tensor oscillator_trajectory(const Tensor& state, const Tensor& controls,
                             const OscillatorConfig& config = {});
// The final state s_steps [B, 2n] of oscillator_trajectory.
Tensor oscillator_rollout(const Tensor& state, const Tensor& controls, const OscillatorConfig& config = {});
// H' = ½Σ(x_i² + p_i²) + (k₃/4)Σ(x_i − x_{i+1})⁴ [B]: the energy the uncontrolled system (u ≡ 0) conserves.
Tensor oscillator_energy(const Tensor& state, const OscillatorConfig& config = {});

}  // namespace dphys
