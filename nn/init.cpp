#include "nn/init.h"

#include <cmath>

#include "engine/creation.h"

namespace dphys::nn {

std::int64_t fan_in(const Shape& weight_shape) {
  DPHYS_CHECK(weight_shape.size() >= 2, "fan_in: weight shape {} needs at least 2 axes",
              shape_str(weight_shape));
  return shape_numel(weight_shape) / weight_shape[0];
}

std::int64_t fan_out(const Shape& weight_shape) {
  DPHYS_CHECK(weight_shape.size() >= 2, "fan_out: weight shape {} needs at least 2 axes",
              shape_str(weight_shape));
  return shape_numel(weight_shape) / weight_shape[1];
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, DType dtype) {
  // gain √(2 / (1 + a²)) with a = √5 gives bound gain·√(3 / fan_in) = 1/√fan_in.
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(shape)));
  return uniform(shape, -bound, bound, gen, dtype);
}

Tensor default_bias(std::int64_t size, std::int64_t weight_fan_in, Generator& gen, DType dtype) {
  const double bound = weight_fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(weight_fan_in)) : 0.0;
  return uniform({size}, -bound, bound, gen, dtype);
}

Tensor xavier_uniform(const Shape& shape, Generator& gen, DType dtype) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in(shape) + fan_out(shape)));
  return uniform(shape, -bound, bound, gen, dtype);
}

}  // namespace dphys::nn
