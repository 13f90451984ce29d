#pragma once
#include "engine/tensor.h"

namespace dphys::kernel {

// [..., m, k] @ [..., k, n] -> [..., m, n]; leading (batch) axes broadcast. Both operands need >= 2 axes.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace dphys::kernel
