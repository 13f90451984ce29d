#pragma once
// Robot-arm forward kinematics of JPO appendix D.5 (../shared/experiments/jpo.md §10), the benchmark of
// Ren et al. 2020 with its analytic model: a rail carries three links of lengths l1, l2, l3,
//   y1 = x1 + l1·sin(x2) + l2·sin(x2 + x3) + l3·sin(x2 + x3 + x4),
//   y2 =      l1·cos(x2) + l2·cos(x2 + x3) + l3·cos(x2 + x3 + x4),
// where x1 is the position along the rail (same length unit as l) and x2..x4 are joint angles in radians,
// each relative to the previous link, the first measured from the y axis (x2 = 0 points the arm straight up).
#include <array>

#include "engine/tensor.h"

namespace dphys {

struct RobotArmConfig {
  std::array<double, 3> lengths = {0.5, 0.5, 1.0};
};

// x [B, 4] (f32 or f64) -> end point y [B, 2], differentiable in x.
Tensor robot_arm(const Tensor& x, const RobotArmConfig& config = {});

}  // namespace dphys
