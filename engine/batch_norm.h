#pragma once
// Training-mode batch normalisation of x [N, C, ...] over every axis but the channel axis 1, as fused
// passes: the statistics, the normalisation, and its backward. Per-channel sums accumulate in f64.
#include <array>

#include "engine/tensor.h"

namespace dphys::kernel {

// The batch mean and biased variance per channel, [C] in x's dtype.
std::array<Tensor, 2> batch_norm_statistics(const Tensor& x);
// y = (x − mean) / √(var + ε) · weight + bias per channel; mean, var, weight and bias are [C].
Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                        const Tensor& bias, double eps);
// The gradients of batch_norm_apply with respect to x, weight and bias, for mean and var the batch
// statistics of x (so the gradient for x includes their dependence on x).
std::array<Tensor, 3> batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                          const Tensor& var, const Tensor& weight, double eps);

}  // namespace dphys::kernel
