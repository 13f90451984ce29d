#pragma once
// Adam's per-element update (optim/adam.h) as one function, so that a step is one pass over each parameter:
// a loop on the CPU, one kernel on a device (optim/cuda/adam.cu). The arithmetic follows PyTorch's update
// operation by operation, in the parameter's precision.
#include <cmath>
#include <cstdint>

#include "engine/dtype.h"
#include "engine/host_device.h"

namespace dphys::adam_step {

// The step's scalars, shared by every element.
struct Coefficients {
  double beta1, beta2, eps;
  double decay_factor;      // AdamW: θ ← θ·(1 − lr·wd) first; 1 otherwise
  double gradient_decay;    // Adam: g ← g + wd·θ; 0 otherwise
  double sqrt_correction2;  // √(1 − β2ᵗ)
  double step_scale;        // −lr / (1 − β1ᵗ)
};

template <class T>
DPHYS_HOST_DEVICE inline void update(const Coefficients& c, T& param, T grad, T& exp_avg, T& exp_avg_sq) {
  if (c.decay_factor != 1.0) param = param * static_cast<T>(c.decay_factor);
  const T g = c.gradient_decay != 0.0 ? grad + static_cast<T>(c.gradient_decay) * param : grad;
  exp_avg = exp_avg * static_cast<T>(c.beta1);
  exp_avg = exp_avg + static_cast<T>(1.0 - c.beta1) * g;
  exp_avg_sq = exp_avg_sq * static_cast<T>(c.beta2);
  exp_avg_sq = exp_avg_sq + static_cast<T>(1.0 - c.beta2) * (g * g);
  const T denom = std::sqrt(exp_avg_sq) / static_cast<T>(c.sqrt_correction2) + static_cast<T>(c.eps);
  param = param + static_cast<T>(c.step_scale) * (exp_avg / denom);
}

}  // namespace dphys::adam_step

namespace dphys::device_kernel {

// adam_step::update over n elements of f32 or f64 device arrays.
void adam_update(DType dtype, std::int64_t n, const adam_step::Coefficients& coefficients, void* param,
                 const void* grad, void* exp_avg, void* exp_avg_sq);

}  // namespace dphys::device_kernel
