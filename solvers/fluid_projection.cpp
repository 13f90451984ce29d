#include "solvers/fluid_projection.h"

#include "autodiff/ops.h"
#include "solvers/stencils.h"

namespace dphys {

Projection make_incompressible(const StaggeredField& velocity, const Grid2D& grid, const FluidMasks& masks,
                               CgOptions options, const Tensor& pressure_guess, CgResult* info) {
  grid.validate("make_incompressible");
  const DType dtype = velocity.x_faces.dtype();
  const StaggeredField masked = apply_masks(velocity, masks);
  const Tensor open_x = cast(masks.open.x_faces, dtype), open_y = cast(masks.open.y_faces, dtype);
  const Tensor fluid = cast(masks.fluid, dtype), solid = 1.0 - fluid;
  Tensor rhs = neg(staggered_divergence(masked, grid));
  if (grid.boundary != Boundary::dirichlet) {
    // Without an open boundary the masked divergence sums to zero over the fluid (each face enters twice
    // with opposite signs), so the system is consistent up to this round-off.
    rhs = rhs - fluid * (sum(rhs * fluid, {1, 2}, true) / sum(fluid, {1, 2}, true));
  }
  // Obstacle rows get the identity, scaled like the Laplacian's diagonal so that CG sees one spectrum.
  const double solid_diagonal = 2.0 / (grid.dx() * grid.dx()) + 2.0 / (grid.dy() * grid.dy());
  const StaggeredField open{open_x, open_y};
  const Tensor diagonal = solid_diagonal * solid;
  const ParametrisedOperator a = [=](const Tensor& p, const std::vector<Tensor>&) {
    return weighted_poisson(p, open, diagonal, grid);  // −∇·(open ∇p) + diagonal ⊙ p
  };
  options.zero_mean = false;
  const Tensor pressure = linear_solve(a, rhs, {}, options, pressure_guess, info);
  const StaggeredField g = staggered_gradient(pressure, grid);
  return {{masked.x_faces - open_x * g.x_faces, masked.y_faces - open_y * g.y_faces}, pressure.detach()};
}

}  // namespace dphys
