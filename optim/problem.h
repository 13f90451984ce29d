#pragma once
// A batched physical inverse problem, the common interface of the trainers (SIP, HIG, JPO) and the
// per-problem optimizers: unknowns x [B, ...] map to observations y = P(x) [B, ...]; example b is the
// problem x_b ↦ y_b with its own target y*_b.
#include "engine/tensor.h"

namespace dphys::optim {

class PhysicsProblem {
 public:
  virtual ~PhysicsProblem() = default;
  // y = P(x), differentiable (gradient-based methods backpropagate through it).
  virtual Tensor forward(const Tensor& x) const = 0;
  // Per-example loss, shape [B]. Default: ½‖y_b − y*_b‖² summed over all non-batch axes.
  virtual Tensor loss(const Tensor& y, const Tensor& target) const;
  // SIP's physics-based update Δx for each example (x + Δx is the proxy target; no gradient flows through
  // it). Problems without an inverse solver raise.
  virtual Tensor inverse_update(const Tensor& x, const Tensor& y, const Tensor& target) const;
};

}  // namespace dphys::optim
