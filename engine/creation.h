#pragma once
// Creating tensors. Results carry no gradient history; call requires_grad_() on leaves to differentiate.
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace dphys {

Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
// [start, stop) in steps of `step`. Like from_vector, these fill a host tensor and copy it to `device`.
Tensor arange(double start, double stop, double step = 1.0, DType dtype = DType::f32,
              Device device = Device::cpu());
// `count` evenly spaced values from start to stop inclusive.
Tensor linspace(double start, double stop, std::int64_t count, DType dtype = DType::f32,
                Device device = Device::cpu());
// Copies host data; data.size() must equal the shape's element count.
Tensor from_vector(const std::vector<double>& data, const Shape& shape, DType dtype = DType::f32,
                   Device device = Device::cpu());
// An i64 index tensor (for index_select, gather, scatter_add).
Tensor from_indices(const std::vector<std::int64_t>& data, const Shape& shape, Device device = Device::cpu());
// Uniform in [low, high) and normal(mean, std), drawn from `gen`; the same numbers on every device.
Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype = DType::f32,
               Device device = Device::cpu());
Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype = DType::f32,
              Device device = Device::cpu());

}  // namespace dphys
