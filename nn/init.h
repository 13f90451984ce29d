#pragma once
// Initialisers matching PyTorch's defaults, drawn from an explicitly seeded generator.
#include "engine/random.h"
#include "engine/tensor.h"

namespace dphys::nn {

// fan_in of a Linear ([out, in]) or conv ([out, in, k...]) weight: in × prod(k).
std::int64_t fan_in(const Shape& weight_shape);
std::int64_t fan_out(const Shape& weight_shape);
// kaiming_uniform_(a = √5), PyTorch's default for Linear and Conv weights: U(±1/√fan_in).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, DType dtype = DType::f32);
// PyTorch's default bias: U(±1/√fan_in) with the weight's fan_in.
Tensor default_bias(std::int64_t size, std::int64_t weight_fan_in, Generator& gen, DType dtype = DType::f32);
// Glorot/Xavier uniform: U(±√(6 / (fan_in + fan_out))).
Tensor xavier_uniform(const Shape& shape, Generator& gen, DType dtype = DType::f32);

}  // namespace dphys::nn
