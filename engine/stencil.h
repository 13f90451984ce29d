#pragma once
// Fused finite-difference stencils on cell-centred grids over the last one or two axes.
#include "engine/tensor.h"

namespace dphys {

// What lies beyond the grid: the periodic continuation, zeros (homogeneous Dirichlet: the ghost cell is 0),
// or a copy of the edge cell (homogeneous Neumann: zero normal derivative). With each of these the discrete
// Laplacian is symmetric, so it is its own adjoint.
enum class Boundary { periodic, dirichlet, neumann };

}  // namespace dphys

namespace dphys::kernel {

// 5-point (2-D, last two axes, spacings dy, dx) or 3-point (1-D, last axis, spacing dx) Laplacian.
Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary);

// −∇·(w ∇p) + d ⊙ p for cell values p [B, ny, nx], in one pass: the operator of a pressure solve on a MAC
// grid with face weights w (x-faces [1 or B, ny, nx'], y-faces [1 or B, ny', nx]; the last face is not stored
// when periodic) and a diagonal d ([1 or B, ny, nx], or undefined for none). Beyond a Dirichlet boundary lies
// a zero ghost cell; a Neumann boundary face carries no flux. Symmetric in p.
Tensor weighted_poisson(const Tensor& p, const Tensor& wx, const Tensor& wy, const Tensor& d, double dy,
                        double dx, Boundary boundary);

}  // namespace dphys::kernel

namespace dphys::kernel {

// Face-to-cell difference along `axis`: out[i] = (f[i + 1] − f[i]) / h. Periodic: f and out have n entries
// and f wraps; otherwise f has n + 1 entries (both boundary faces) and out has n.
Tensor face_difference(const Tensor& faces, int axis, double h, bool periodic);
// Its adjoint, cell-to-face: out[i] = (c[i − 1] − c[i]) / h, with c outside the grid taken as 0 (or wrapped).
Tensor face_difference_adjoint(const Tensor& cells, int axis, double h, bool periodic);

}  // namespace dphys::kernel
