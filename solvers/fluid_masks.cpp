#include "solvers/fluid_masks.h"

#include "autodiff/ops.h"

namespace dphys {

FluidMasks fluid_masks(const Grid2D& grid, const Tensor& solid, DType dtype, Device device) {
  grid.validate("fluid_masks");
  Tensor fluid = ones({1, grid.ny, grid.nx}, dtype, device);
  if (solid.defined()) {
    DPHYS_CHECK(solid.dim() == 3 && solid.shape()[1] == grid.ny && solid.shape()[2] == grid.nx,
                "fluid_masks: obstacle mask {} does not match the {}x{} grid (expected [1 or B, {}, {}])",
                shape_str(solid.shape()), grid.ny, grid.nx, grid.ny, grid.nx);
    const Tensor s = cast(solid.detach(), DType::f64).to(device);
    DPHYS_CHECK(
        sum(ne(s, scalar(0.0, DType::f64, device)) * ne(s, scalar(1.0, DType::f64, device))).item() == 0.0,
        "fluid_masks: the obstacle mask {} must hold only 0 (fluid) and 1 (obstacle)",
        shape_str(solid.shape()));
    fluid = cast(1.0 - s, dtype);
    DPHYS_CHECK(min(sum(fluid, {1, 2})).item() > 0, "fluid_masks: the obstacle mask {} leaves no fluid cell",
                shape_str(solid.shape()));
  }
  const PadMode mode = grid.periodic() ? PadMode::periodic : PadMode::constant;
  const double outside = grid.boundary == Boundary::dirichlet ? 1.0 : 0.0;
  // Face i lies between cells i − 1 and i; a periodic grid stores faces 0..n−1, a closed one 0..n.
  const auto faces = [&](int axis) {
    std::vector<std::pair<std::int64_t, std::int64_t>> widths(3, {0, 0});
    widths[axis] = {1, grid.periodic() ? 0 : 1};
    const Tensor padded = pad(fluid, widths, mode, outside);
    const std::int64_t n = padded.shape()[axis] - 1;
    return slice(padded, axis, 0, n) * slice(padded, axis, 1, n + 1);
  };
  return {fluid, {faces(2), faces(1)}};
}

Tensor disc_obstacles(const Grid2D& grid, const std::vector<std::pair<double, double>>& centres,
                      double radius, DType dtype) {
  grid.validate("disc_obstacles");
  Tensor solid = zeros({1, grid.ny, grid.nx}, DType::f64);
  for (const auto& [cy, cx] : centres) {
    const Tensor distance2 = square(grid.cell_y() - cy) + square(grid.cell_x() - cx);
    solid = maximum(solid, unsqueeze(lt(distance2, scalar(radius * radius, DType::f64)), 0));
  }
  return cast(solid, dtype);
}

StaggeredField apply_masks(const StaggeredField& velocity, const FluidMasks& masks) {
  DPHYS_CHECK(velocity.x_faces.dim() == 3 && velocity.y_faces.dim() == 3 &&
                  velocity.x_faces.shape()[1] == masks.open.x_faces.shape()[1] &&
                  velocity.x_faces.shape()[2] == masks.open.x_faces.shape()[2] &&
                  velocity.y_faces.shape()[1] == masks.open.y_faces.shape()[1] &&
                  velocity.y_faces.shape()[2] == masks.open.y_faces.shape()[2],
              "apply_masks: velocity faces {} and {} do not match the masks' {} and {}",
              shape_str(velocity.x_faces.shape()), shape_str(velocity.y_faces.shape()),
              shape_str(masks.open.x_faces.shape()), shape_str(masks.open.y_faces.shape()));
  return {velocity.x_faces * cast(masks.open.x_faces, velocity.x_faces.dtype()),
          velocity.y_faces * cast(masks.open.y_faces, velocity.y_faces.dtype())};
}

}  // namespace dphys
