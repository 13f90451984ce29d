#pragma once
// Gradient clipping: on the parameters' .grad in place (PyTorch's clip_grad_norm_ / clip_grad_value_), and
// JPO's per-problem percentile clipping of solution-space gradients.
#include <vector>

#include "engine/tensor.h"

namespace dphys::optim {

// Treats the gradients of all parameters as one vector with L2 norm n and scales them by
// min(1, max_norm / (n + 1e-6)) (PyTorch's clip_grad_norm_). Returns n, the norm before clipping.
// Parameters without a gradient are skipped.
double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm);
// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value(const std::vector<Tensor>& parameters, double clip_value);

struct PercentileClip {
  Tensor gradients;  // the clipped per-example gradients, same shape, dtype and device as the input
  double threshold;  // τ, the quantile of the finite per-example norms (0 when none is finite)
};

// Per-example clipping at a quantile of the batch's gradient norms (JPO, ../shared/experiments/jpo.md §2.3).
// `per_example` is [N, ...]: row i is g_i = ∂L_i/∂x_i, the gradient of problem i's loss with respect to its
// own network output (not a θ-gradient), taken before backpropagating into the network.
//   1. n_i = ‖g_i‖₂; a row with a non-finite entry becomes 0 and its norm is left out of the quantile.
//   2. τ = the `quantile` quantile of the M finite n_i with linear interpolation (NumPy's default: sorted
//      ascending, position quantile·(M − 1)).
//   3. g_i ← g_i · min(1, τ / n_i).
// With quantile 0.9 the top 10 % of rows are scaled down to norm τ, the rest are unchanged; N = 1 changes
// nothing. The result carries no gradient history: feed it as the cotangent of the network output.
PercentileClip clip_per_example_percentile(const Tensor& per_example, double quantile = 0.9);

}  // namespace dphys::optim
