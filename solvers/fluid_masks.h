#pragma once
// Where the fluid is on a MAC grid (solvers/grid.h): cell masks for obstacles and face masks for the walls
// between fluid and solid. For the fluid solvers Grid2D::boundary names the domain's boundary: periodic
// wraps; neumann is a closed box (no flow through the walls, ∂p/∂n = 0 there); dirichlet is open (p = 0
// outside, flow may leave and enter through the boundary faces).
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "solvers/grid.h"

namespace dphys {

struct FluidMasks {
  Tensor fluid;         // [1 or B, ny, nx]: 1 in fluid cells, 0 in obstacle cells
  StaggeredField open;  // 1 on faces flow may cross: both neighbours are fluid
};

// Masks from an obstacle mask `solid` ([1 or B, ny, nx], 1 = obstacle, 0 = fluid; undefined = no
// obstacles). Outside the grid a closed box counts as solid, an open one as fluid. The masks live on `device`
// (the fields' device: the fluid step multiplies by them).
FluidMasks fluid_masks(const Grid2D& grid, const Tensor& solid = Tensor(), DType dtype = DType::f64,
                       Device device = Device::cpu());

// Obstacle mask [1, ny, nx] of the cells whose centre lies inside any of the discs ((y, x) centres, one
// radius), as in jpo.md §9.2.
Tensor disc_obstacles(const Grid2D& grid, const std::vector<std::pair<double, double>>& centres,
                      double radius, DType dtype = DType::f64);

// Zero normal velocity on every closed face.
StaggeredField apply_masks(const StaggeredField& velocity, const FluidMasks& masks);

}  // namespace dphys
