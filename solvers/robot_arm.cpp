#include "solvers/robot_arm.h"

#include "autodiff/ops.h"

namespace dphys {

Tensor robot_arm(const Tensor& x, const RobotArmConfig& config) {
  DPHYS_CHECK(x.dim() == 2 && x.shape()[1] == 4, "robot_arm: x must be [B, 4], got shape {}",
              shape_str(x.shape()));
  DPHYS_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "robot_arm: x must be f32 or f64, got {}",
              dtype_name(x.dtype()));
  // Absolute link angles: the running sums x2, x2 + x3, x2 + x3 + x4, as a product with an upper
  // triangular matrix of ones.
  const Tensor cumulative = from_vector({1, 1, 1, 0, 1, 1, 0, 0, 1}, {3, 3}, x.dtype(), x.device());
  const Tensor angles = matmul(slice(x, 1, 1, 4), cumulative);
  const Tensor lengths =
      from_vector({config.lengths[0], config.lengths[1], config.lengths[2]}, {3}, x.dtype(), x.device());
  const Tensor horizontal = slice(x, 1, 0, 1) + sum(lengths * sin(angles), {1}, true);
  const Tensor vertical = sum(lengths * cos(angles), {1}, true);
  return concat({horizontal, vertical}, 1);
}

}  // namespace dphys
