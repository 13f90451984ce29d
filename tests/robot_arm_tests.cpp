// Robot-arm kinematics (jpo.md §10): hand-computed poses and the gradient.
#include <cmath>

#include "solvers/robot_arm.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

TEST_CASE("robot arm: hand-computed end points") {
  const double r = std::sqrt(0.5) * 0.5;                          // 0.5·sin(π/4)
  const Tensor x = from_vector({0, 0, 0, 0,                       // straight up: (0, l1 + l2 + l3)
                                0.3, M_PI / 2, 0, 0,              // flat to the right of the rail at 0.3
                                0, 0, M_PI / 2, -M_PI / 2,        // up 0.5, right 0.5, up 1
                                -0.2, M_PI / 4, M_PI / 4, M_PI},  // link angles π/4, π/2, 3π/2
                               {4, 4}, DType::f64);
  const Tensor expected = from_vector({0, 2, 2.3, 0, 0.5, 1.5, -0.2 + r + 0.5 - 1.0, r}, {4, 2}, DType::f64);
  const Tensor y = robot_arm(x);
  REQUIRE(y.shape() == Shape{4, 2});
  CHECK(max_abs_diff(y, expected) < 1e-15);
  RobotArmConfig unit;
  unit.lengths = {1, 1, 1};
  CHECK(max_abs_diff(robot_arm(zeros({1, 4}, DType::f64), unit), from_vector({0, 3}, {1, 2}, DType::f64)) ==
        0.0);
  CHECK(max_abs_diff(robot_arm(cast(x, DType::f32)), expected) < 1e-6);
}

TEST_CASE("robot arm: gradient matches finite differences and the analytic Jacobian") {
  Generator gen(31);
  const Tensor x = normal({5, 4}, 0, 0.5, gen, DType::f64);
  const Tensor target = normal({5, 2}, 0, 0.5, gen, DType::f64);
  const Function loss = [&](const std::vector<Tensor>& v) { return sum(square(robot_arm(v[0]) - target)); };
  const Tensor g = grad(loss, {x})[0];
  const Tensor fd = finite_difference_gradient(loss, {x}, 0);
  const double error = max_abs_diff(g, fd) / max_abs(fd);
  MESSAGE("relative error " << error);
  CHECK(error < 1e-8);
  // ∂y/∂x for one pose: column 1 is (1, 0); the angle columns sum the links beyond each joint.
  const std::vector<double> p = slice(x, 0, 0, 1).to_vector<double>();
  const double a1 = p[1], a2 = p[1] + p[2], a3 = p[1] + p[2] + p[3];
  const double c3 = std::cos(a3), s3 = std::sin(a3);
  const double c23 = 0.5 * std::cos(a2) + c3, s23 = 0.5 * std::sin(a2) + s3;
  const double c123 = 0.5 * std::cos(a1) + c23, s123 = 0.5 * std::sin(a1) + s23;
  const Tensor expected = from_vector({1, c123, c23, c3, 0, -s123, -s23, -s3}, {2, 4}, DType::f64);
  const Tensor j = jacobian([](const Tensor& v) { return squeeze(robot_arm(v), 0); }, slice(x, 0, 0, 1));
  CHECK(max_abs_diff(reshape(j, {2, 4}), expected) < 1e-15);
}

TEST_CASE("robot arm: wrong shapes and dtypes are errors") {
  CHECK(contains(error_message([] {
                   robot_arm(zeros({2, 3}, DType::f64));
                 }),
                 "x must be [B, 4], got shape [2, 3]"));
  CHECK(
      contains(error_message([] { robot_arm(zeros({4}, DType::f64)); }), "x must be [B, 4], got shape [4]"));
  CHECK(contains(error_message([] {
                   robot_arm(zeros({1, 4}, DType::c128));
                 }),
                 "x must be f32 or f64, got c128"));
}
