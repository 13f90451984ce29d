#include "solvers/fluid_advection.h"

#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "solvers/fluid_advection_kernel.h"

namespace dphys {

namespace {

void check_velocity(const char* op, const StaggeredField& v, const Grid2D& grid) {
  check_staggered(op, v, grid);
  DPHYS_CHECK(v.x_faces.dtype() == v.y_faces.dtype() &&
                  (v.x_faces.dtype() == DType::f32 || v.x_faces.dtype() == DType::f64),
              "{}: velocity faces must share one real dtype (f32 or f64), got {} and {}", op,
              dtype_name(v.x_faces.dtype()), dtype_name(v.y_faces.dtype()));
}

// Where a particle at (y, x) with velocity (vy, vx) there is after `time` (negative: where it came from).
std::pair<Tensor, Tensor> trace(const Tensor& y, const Tensor& x, const Tensor& vy, const Tensor& vx,
                                const StaggeredField& velocity, const Grid2D& grid, double time,
                                BackTrace method) {
  if (method == BackTrace::euler) return {y + time * vy, x + time * vx};
  const auto [mid_vy, mid_vx] = sample_velocity(velocity, grid, y + 0.5 * time * vy, x + 0.5 * time * vx);
  return {y + time * mid_vy, x + time * mid_vx};
}

void check_advected(const Tensor& q, Staggering staggering, const StaggeredField& velocity,
                    const Grid2D& grid) {
  check_velocity("advect", velocity, grid);
  const std::int64_t batch = velocity.x_faces.shape()[0];
  const Shape expected = staggered_shape(grid, staggering, batch);
  DPHYS_CHECK(q.shape() == expected && q.dtype() == velocity.x_faces.dtype(),
              "advect: field {} {} does not match the velocity's batch and dtype on the {}x{} grid (expected "
              "{} {})",
              shape_str(q.shape()), dtype_name(q.dtype()), grid.ny, grid.nx, shape_str(expected),
              dtype_name(velocity.x_faces.dtype()));
}

}  // namespace

Tensor advect_composed(const Tensor& q, Staggering staggering, const StaggeredField& velocity,
                       const Grid2D& grid, double dt, const AdvectionOptions& options) {
  check_advected(q, staggering, velocity, grid);
  const std::int64_t batch = velocity.x_faces.shape()[0];
  const auto [y, x] = sample_points(grid, staggering, q.dtype());
  const auto [vy, vx] = sample_velocity(velocity, grid, y, x);
  const auto [back_y, back_x] = trace(y, x, vy, vx, velocity, grid, -dt, options.trace);
  const LinearStencil back = linear_stencil(grid, staggering, back_y, back_x, batch);
  const Tensor semi_lagrangian = interpolate(q, back);
  if (options.scheme == AdvectionScheme::semi_lagrangian) return semi_lagrangian;

  // The forward trace starts from the same point with the same velocity (PhiFlow's v0), so that on a
  // uniform flow it is the exact inverse of the backward one.
  const auto [ahead_y, ahead_x] = trace(y, x, vy, vx, velocity, grid, dt, options.trace);
  const Tensor round_trip =
      interpolate(semi_lagrangian, linear_stencil(grid, staggering, ahead_y, ahead_x, batch));
  const Tensor corrected = semi_lagrangian + 0.5 * (q - round_trip);
  const auto [low, high] = neighbour_range(q, back);
  return minimum(maximum(corrected, low), high);
}

Tensor advect(const Tensor& q, Staggering staggering, const StaggeredField& velocity, const Grid2D& grid,
              double dt, const AdvectionOptions& options) {
  check_advected(q, staggering, velocity, grid);
  DPHYS_CHECK(dt > 0 && std::isfinite(dt), "advect: dt must be positive and finite, got {}", dt);
  const auto forward = [=](const std::vector<Tensor>& in) {
    return kernel::advect(in[0], staggering, {in[1], in[2]}, grid, dt, options);
  };
  const auto backward = [=](const Tensor& g, const std::vector<Tensor>& in, const Tensor&) {
    if (GradMode::enabled()) {  // a higher derivative: differentiate the op-by-op version instead
      const auto composed = [&](const std::vector<Tensor>& v) {
        return advect_composed(v[0], staggering, {v[1], v[2]}, grid, dt, options);
      };
      return vjp(composed, in, g).second;
    }
    const std::array<Tensor, 3> bars =
        kernel::advect_adjoint(g, in[0], staggering, {in[1], in[2]}, grid, dt, options);
    return std::vector<Tensor>(bars.begin(), bars.end());
  };
  return custom_op("advect", {q, velocity.x_faces, velocity.y_faces}, forward, backward);
}

StaggeredField advect(const StaggeredField& field, const StaggeredField& velocity, const Grid2D& grid,
                      double dt, const AdvectionOptions& options) {
  return {advect(field.x_faces, Staggering::x_faces, velocity, grid, dt, options),
          advect(field.y_faces, Staggering::y_faces, velocity, grid, dt, options)};
}

}  // namespace dphys
