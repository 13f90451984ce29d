#include "solvers/stencils.h"

#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/constant_cache.h"

namespace dphys {

using Grads = std::vector<Tensor>;

namespace {

PadMode ghost_mode(Boundary boundary) {
  switch (boundary) {
    case Boundary::periodic:
      return PadMode::periodic;
    case Boundary::neumann:
      return PadMode::edge;
    case Boundary::dirichlet:
      return PadMode::constant;
  }
  return PadMode::constant;
}

Tensor pad_axis(const Tensor& x, int axis, std::int64_t before, std::int64_t after, PadMode mode) {
  std::vector<std::pair<std::int64_t, std::int64_t>> widths(x.dim(), {0, 0});
  widths[axis] = {before, after};
  return pad(x, widths, mode);
}

// One ghost cell on each side of `axis` of a [B, ny, nx] field.
Tensor with_ghosts(const Tensor& x, int axis, Boundary boundary) {
  return pad_axis(x, axis, 1, 1, ghost_mode(boundary));
}

void check_centered(const char* op, const Tensor& x, const Grid2D& grid) {
  grid.validate(op);
  DPHYS_CHECK(x.dim() == 3 && x.shape()[1] == grid.ny && x.shape()[2] == grid.nx,
              "{}: expected a centred field [B, {}, {}], got {}", op, grid.ny, grid.nx, shape_str(x.shape()));
}

// Sets the first and last entries along `axis` to zero (boundary faces).
Tensor zero_ends(const Tensor& faces, int axis) {
  const std::int64_t n = faces.shape()[axis];
  const std::string key =
      fmt::format("zero_ends {} of {} at axis {} {}", n, faces.dim(), axis, dtype_name(faces.dtype()));
  return faces * cached_constant(key, faces.device(), [&] {
           Shape shape(faces.dim(), 1);
           shape[axis] = n;
           std::vector<double> mask(n, 1.0);
           mask.front() = mask.back() = 0.0;
           return from_vector(mask, shape, faces.dtype());
         });
}

}  // namespace

Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary) {
  Tensor out = kernel::laplacian(x, dims, dy, dx, boundary);
  if (!needs_grad(x)) return out;
  return record("laplacian", {x}, out, [dims, dy, dx, boundary](const Tensor& g, const Tensor&) {
    return Grads{laplacian(g, dims, dy, dx, boundary)};
  });
}

Tensor laplacian(const Tensor& x, const Grid2D& grid) {
  check_centered("laplacian", x, grid);
  return laplacian(x, 2, grid.dy(), grid.dx(), grid.boundary);
}

Tensor weighted_poisson(const Tensor& p, const StaggeredField& weights, const Tensor& diagonal,
                        const Grid2D& grid) {
  check_centered("weighted_poisson", p, grid);
  DPHYS_CHECK(!needs_grad(weights.x_faces, weights.y_faces) && !(diagonal.defined() && needs_grad(diagonal)),
              "weighted_poisson: differentiable in p only, but a weight or the diagonal requires grad");
  Tensor out = kernel::weighted_poisson(p, weights.x_faces, weights.y_faces, diagonal, grid.dy(), grid.dx(),
                                        grid.boundary);
  if (!needs_grad(p)) return out;
  return record("weighted_poisson", {p}, out, [weights, diagonal, grid](const Tensor& g, const Tensor&) {
    return Grads{weighted_poisson(g, weights, diagonal, grid)};
  });
}

Tensor face_difference(const Tensor& faces, int axis, double h, bool periodic) {
  Tensor out = kernel::face_difference(faces, axis, h, periodic);
  if (!needs_grad(faces)) return out;
  return record("face_difference", {faces}, out, [axis, h, periodic](const Tensor& g, const Tensor&) {
    return Grads{face_difference_adjoint(g, axis, h, periodic)};
  });
}

Tensor face_difference_adjoint(const Tensor& cells, int axis, double h, bool periodic) {
  Tensor out = kernel::face_difference_adjoint(cells, axis, h, periodic);
  if (!needs_grad(cells)) return out;
  return record("face_difference_adjoint", {cells}, out, [axis, h, periodic](const Tensor& g, const Tensor&) {
    return Grads{face_difference(g, axis, h, periodic)};
  });
}

Tensor staggered_divergence(const StaggeredField& v, const Grid2D& grid) {
  check_staggered("staggered_divergence", v, grid);
  return face_difference(v.x_faces, 2, grid.dx(), grid.periodic()) +
         face_difference(v.y_faces, 1, grid.dy(), grid.periodic());
}

StaggeredField staggered_gradient(const Tensor& p, const Grid2D& grid) {
  check_centered("staggered_gradient", p, grid);
  Tensor gx = neg(face_difference_adjoint(p, 2, grid.dx(), grid.periodic()));
  Tensor gy = neg(face_difference_adjoint(p, 1, grid.dy(), grid.periodic()));
  if (grid.boundary == Boundary::neumann) {
    gx = zero_ends(gx, 2);
    gy = zero_ends(gy, 1);
  }
  return {gx, gy};
}

namespace {

void check_line(const char* op, const Tensor& x, std::int64_t n, const Grid1D& grid) {
  grid.validate(op);
  DPHYS_CHECK(x.dim() == 2 && x.shape()[1] == n, "{}: expected [B, {}] on a {}-cell grid, got {}", op, n,
              grid.n, shape_str(x.shape()));
}

}  // namespace

Tensor laplacian(const Tensor& x, const Grid1D& grid) {
  check_line("laplacian", x, grid.n, grid);
  return laplacian(x, 1, 1.0, grid.dx(), grid.boundary);
}

Tensor staggered_divergence(const Tensor& faces, const Grid1D& grid) {
  check_line("staggered_divergence", faces, grid.face_shape(1)[1], grid);
  return face_difference(faces, 1, grid.dx(), grid.periodic());
}

Tensor staggered_gradient(const Tensor& p, const Grid1D& grid) {
  check_line("staggered_gradient", p, grid.n, grid);
  const Tensor g = neg(face_difference_adjoint(p, 1, grid.dx(), grid.periodic()));
  return grid.boundary == Boundary::neumann ? zero_ends(g, 1) : g;
}

std::pair<Tensor, Tensor> centered_gradient(const Tensor& p, const Grid2D& grid) {
  check_centered("centered_gradient", p, grid);
  const auto central = [&](int axis, double h) {
    const Tensor padded = with_ghosts(p, axis, grid.boundary);
    const std::int64_t n = p.shape()[axis];
    return (slice(padded, axis, 2, n + 2) - slice(padded, axis, 0, n)) / (2 * h);
  };
  return {central(1, grid.dy()), central(2, grid.dx())};
}

Tensor centered_divergence(const Tensor& vy, const Tensor& vx, const Grid2D& grid) {
  return centered_gradient(vy, grid).first + centered_gradient(vx, grid).second;
}

StaggeredField centered_to_staggered(const Tensor& vy, const Tensor& vx, const Grid2D& grid) {
  check_centered("centered_to_staggered", vy, grid);
  check_centered("centered_to_staggered", vx, grid);
  // Face i lies between cells i − 1 and i; a periodic grid stores faces 0..n−1, a closed one 0..n.
  const auto to_faces = [&](const Tensor& c, int axis) {
    const Tensor padded = with_ghosts(c, axis, grid.boundary);
    const std::int64_t n = c.shape()[axis], faces = grid.periodic() ? n : n + 1;
    return 0.5 * (slice(padded, axis, 0, faces) + slice(padded, axis, 1, faces + 1));
  };
  return {to_faces(vx, 2), to_faces(vy, 1)};
}

std::pair<Tensor, Tensor> staggered_to_centered(const StaggeredField& v, const Grid2D& grid) {
  check_staggered("staggered_to_centered", v, grid);
  const auto to_cells = [&](const Tensor& f, int axis, std::int64_t n) {
    // A periodic grid does not store face n: it is face 0 again.
    const Tensor closed = grid.periodic() ? pad_axis(f, axis, 0, 1, PadMode::periodic) : f;
    return 0.5 * (slice(closed, axis, 0, n) + slice(closed, axis, 1, n + 1));
  };
  return {to_cells(v.y_faces, 1, grid.ny), to_cells(v.x_faces, 2, grid.nx)};
}

}  // namespace dphys
