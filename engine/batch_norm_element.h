#pragma once
// The per-element formulas of training-mode batch normalisation (engine/batch_norm.h), shared by the CPU
// loops and the device kernels (engine/cuda/batch_norm.cu). In the element type, as the composed ops round.
#include "engine/host_device.h"

namespace dphys::batch_norm {

// y = (x − mean) / std · weight + bias, std = √(var + ε).
template <class T>
DPHYS_HOST_DEVICE inline T output(T x, T mean, T std, T weight, T bias) {
  return (x - mean) / std * weight + bias;
}

// ∂L/∂x = weight / std · (g − mean(g) − x̂ · mean(g·x̂)), x̂ = (x − mean) / std: the batch statistics'
// dependence on x included.
template <class T>
DPHYS_HOST_DEVICE inline T input_grad(T g, T x, T mean, T std, T weight, double mean_g, double mean_g_xhat) {
  const T xhat = (x - mean) / std;
  return weight / std * (g - static_cast<T>(mean_g) - xhat * static_cast<T>(mean_g_xhat));
}

}  // namespace dphys::batch_norm
