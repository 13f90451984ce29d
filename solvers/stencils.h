#pragma once
// Differentiable stencil operators on cell-centred and staggered grids (solvers/grid.h). The Laplacian and
// the staggered difference pair are fused kernels with hand-written adjoints; the rest compose those with
// padding and slicing, whose adjoints come from autodiff.
#include "engine/stencil.h"
#include "engine/tensor.h"
#include "solvers/grid.h"

namespace dphys {

// ∇²x over the last `dims` axes (1 or 2) with spacings dy, dx (dy unused in 1-D). Self-adjoint: its VJP is
// itself.
Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary);
Tensor laplacian(const Tensor& x, const Grid2D& grid);

// −∇·(w ∇p) + d ⊙ p (engine/stencil.h's weighted_poisson) with face weights w and diagonal d (undefined for
// none) on `grid`: the pressure operator of a MAC grid with obstacles, in one pass. Differentiable in p; its
// VJP is itself. The weights and the diagonal are constants: they must not require grad.
Tensor weighted_poisson(const Tensor& p, const StaggeredField& weights, const Tensor& diagonal,
                        const Grid2D& grid);

// Face-to-cell difference along `axis` and its adjoint (engine/stencil.h); each is the other's VJP.
Tensor face_difference(const Tensor& faces, int axis, double h, bool periodic);
Tensor face_difference_adjoint(const Tensor& cells, int axis, double h, bool periodic);

// ∇·v at cell centres from face components.
Tensor staggered_divergence(const StaggeredField& v, const Grid2D& grid);
// ∇p on faces from cell values. Dirichlet: zero ghost cells; Neumann: zero gradient on boundary faces.
// For periodic and Dirichlet grids −staggered_gradient is the exact adjoint of staggered_divergence, and
// staggered_divergence(staggered_gradient(p)) equals laplacian(p).
StaggeredField staggered_gradient(const Tensor& p, const Grid2D& grid);

// 1-D versions on [B, n] fields: ∇², ∂/∂x from faces to cells, and ∂/∂x from cells to faces (the same
// boundary rules and adjoint relations as in 2-D).
Tensor laplacian(const Tensor& x, const Grid1D& grid);
Tensor staggered_divergence(const Tensor& faces, const Grid1D& grid);
Tensor staggered_gradient(const Tensor& p, const Grid1D& grid);

// Central differences at cell centres, [B, ny, nx] -> ∂/∂y and ∂/∂x, with ghost cells from the boundary.
std::pair<Tensor, Tensor> centered_gradient(const Tensor& p, const Grid2D& grid);
// Central-difference divergence of a centred vector field (vy, vx).
Tensor centered_divergence(const Tensor& vy, const Tensor& vx, const Grid2D& grid);

// Averages between the grids: cell values to faces (mean of the two adjacent cells, ghosts from the
// boundary) and face components to cell centres (mean of the two faces of each cell).
StaggeredField centered_to_staggered(const Tensor& vy, const Tensor& vx, const Grid2D& grid);
std::pair<Tensor, Tensor> staggered_to_centered(const StaggeredField& v, const Grid2D& grid);

}  // namespace dphys
