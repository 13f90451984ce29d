#pragma once
// The backward pass of max pooling as one pass over the windows, instead of the composed formula's mask,
// tie count and broadcasts over the window axes.
#include "engine/tensor.h"

namespace dphys::kernel {

// x [B, C, H, W], y = the max over its non-overlapping kh × kw windows [B, C, H/kh, W/kw], g the gradient of
// y: the gradient of x (zero past the last whole window). Ties share the gradient equally.
Tensor max_pool_backward(const Tensor& x, const Tensor& y, const Tensor& g, std::int64_t kh, std::int64_t kw);

}  // namespace dphys::kernel
