#pragma once
// Checks on values computed on a device that do not make the host wait for them.
#include <string>

#include "engine/tensor.h"

namespace dphys::kernel {

// Raises `message` unless the one-element real tensor `value` is 0: at once on the CPU; on a device at the
// next read from it (device_memory::deferred_check), with the op that failed named in the message.
void check_zero(const Tensor& value, std::string message);

// Raises `message` if the real tensor `x` holds NaN or Inf, when check_zero would. One reduction finds both:
// Σ 0·x is ±0 for finite x and NaN otherwise.
void check_finite(const Tensor& x, std::string message);

}  // namespace dphys::kernel
