#include "solvers/fluid_viscosity.h"

#include <cmath>

#include "autodiff/ops.h"
#include "solvers/stencils.h"

namespace dphys {

namespace {

// O∇²(O q) for one face component; q's own array (faces included) is the grid the Laplacian runs on.
Tensor masked_laplacian(const Tensor& q, const Tensor& open, const Grid2D& grid) {
  const Boundary boundary = grid.periodic() ? Boundary::periodic : Boundary::neumann;
  return open * laplacian(open * q, 2, grid.dy(), grid.dx(), boundary);
}

void check_viscosity(const char* op, double viscosity, double dt) {
  DPHYS_CHECK(viscosity >= 0 && dt > 0 && std::isfinite(viscosity * dt),
              "{}: needs viscosity ≥ 0 and dt > 0, got ν = {} and dt = {}", op, viscosity, dt);
}

}  // namespace

StaggeredField diffuse_explicit(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                                double viscosity, double dt) {
  check_viscosity("diffuse_explicit", viscosity, dt);
  const double number = viscosity * dt * (2.0 / (grid.dx() * grid.dx()) + 2.0 / (grid.dy() * grid.dy()));
  DPHYS_CHECK(number <= 1.0,
              "diffuse_explicit: νΔt(2/Δx² + 2/Δy²) = {} > 1 (ν = {}, dt = {}, {}x{} cells of {} x {}) is "
              "unstable; use diffuse_implicit or a smaller dt",
              number, viscosity, dt, grid.ny, grid.nx, grid.dy(), grid.dx());
  const StaggeredField v = apply_masks(velocity, masks);
  const DType dtype = v.x_faces.dtype();
  const Tensor open_x = cast(masks.open.x_faces, dtype), open_y = cast(masks.open.y_faces, dtype);
  return {v.x_faces + viscosity * dt * masked_laplacian(v.x_faces, open_x, grid),
          v.y_faces + viscosity * dt * masked_laplacian(v.y_faces, open_y, grid)};
}

StaggeredField diffuse_implicit(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                                double viscosity, double dt, const CgOptions& options) {
  check_viscosity("diffuse_implicit", viscosity, dt);
  const StaggeredField v = apply_masks(velocity, masks);
  const DType dtype = v.x_faces.dtype();
  const auto solve = [&](const Tensor& q, const Tensor& open) {
    const ParametrisedOperator a = [=](const Tensor& x, const std::vector<Tensor>&) {
      return x - viscosity * dt * masked_laplacian(x, open, grid);
    };
    CgOptions definite = options;
    definite.zero_mean = false;  // I − νΔt∇² is definite: no constant to remove
    return linear_solve(a, q, {}, definite, q.detach());
  };
  return {solve(v.x_faces, cast(masks.open.x_faces, dtype)),
          solve(v.y_faces, cast(masks.open.y_faces, dtype))};
}

}  // namespace dphys
