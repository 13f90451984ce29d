// Staggered and centred stencils: adjoint identities, consistency with the Laplacian, convergence order.
#include <cmath>

#include "solvers/stencils.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::max_abs_diff;

namespace {

double inner(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }
double inner(const StaggeredField& a, const StaggeredField& b) {
  return inner(a.x_faces, b.x_faces) + inner(a.y_faces, b.y_faces);
}

Grid2D make_grid(std::int64_t ny, std::int64_t nx, Boundary boundary) {
  Grid2D grid;
  grid.ny = ny;
  grid.nx = nx;
  grid.length_y = 1.5;
  grid.length_x = 2.0;
  grid.boundary = boundary;
  return grid;
}

StaggeredField random_faces(const Grid2D& grid, Generator& gen) {
  return {normal(grid.x_face_shape(2), 0, 1, gen, DType::f64),
          normal(grid.y_face_shape(2), 0, 1, gen, DType::f64)};
}

}  // namespace

TEST_CASE("face_difference and its adjoint satisfy <D f, c> = <f, D^T c>") {
  Generator gen(1);
  for (bool periodic : {true, false}) {
    const Tensor f = normal({2, 5, periodic ? 6 : 7}, 0, 1, gen, DType::f64);
    const Tensor c = normal({2, 5, 6}, 0, 1, gen, DType::f64);
    CHECK(inner(face_difference(f, 2, 0.3, periodic), c) ==
          doctest::Approx(inner(f, face_difference_adjoint(c, 2, 0.3, periodic))).epsilon(1e-13));
  }
  // By hand, closed: faces [1, 3, 6] -> cells [2, 3] / h.
  CHECK(face_difference(from_vector({1, 3, 6}, {3}, DType::f64), 0, 0.5, false).to_vector<double>() ==
        std::vector<double>{4, 6});
}

TEST_CASE("staggered: divergence of the gradient is the Laplacian; -gradient is the adjoint of divergence") {
  Generator gen(2);
  for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
    const Grid2D grid = make_grid(6, 8, boundary);
    const Tensor p = normal(grid.centered_shape(2), 0, 1, gen, DType::f64);
    CHECK(max_abs_diff(staggered_divergence(staggered_gradient(p, grid), grid), laplacian(p, grid)) < 1e-12);
    if (boundary == Boundary::neumann)
      continue;  // boundary faces are zeroed there, not adjoint to divergence
    const StaggeredField v = random_faces(grid, gen);
    const StaggeredField g = staggered_gradient(p, grid);
    CHECK(inner(staggered_divergence(v, grid), p) == doctest::Approx(-inner(v, g)).epsilon(1e-13));
  }
}

TEST_CASE("centred gradient converges at second order; divergence-free fields stay divergence-free") {
  std::vector<double> errors;
  for (std::int64_t n : {16, 32, 64}) {
    Grid2D grid = make_grid(n, n, Boundary::periodic);
    grid.length_y = grid.length_x = 1.0;
    const Tensor p = unsqueeze(sin(2 * M_PI * grid.cell_x()) * cos(2 * M_PI * grid.cell_y()), 0);
    const Tensor dpdx =
        unsqueeze(2 * M_PI * cos(2 * M_PI * grid.cell_x()) * cos(2 * M_PI * grid.cell_y()), 0);
    errors.push_back(max_abs_diff(centered_gradient(p, grid).second, dpdx));
  }
  CHECK(std::log2(errors[0] / errors[1]) == doctest::Approx(2.0).epsilon(0.05));
  CHECK(std::log2(errors[1] / errors[2]) == doctest::Approx(2.0).epsilon(0.05));
  // Faces from a stream function ψ on cell corners, vx = ∂ψ/∂y and vy = −∂ψ/∂x by one-sided differences,
  // are discretely divergence-free on the MAC grid (the mixed differences cancel).
  const Grid2D grid = make_grid(8, 10, Boundary::periodic);
  Generator gen(3);
  const Tensor psi = normal(grid.centered_shape(2), 0, 1, gen, DType::f64);
  const StaggeredField v{(roll(psi, -1, 1) - psi) / grid.dy(), neg(roll(psi, -1, 2) - psi) / grid.dx()};
  CHECK(dphys::test::max_abs(staggered_divergence(v, grid)) < 1e-12);
  CHECK(dphys::test::max_abs(v.x_faces) > 0.1);
}

TEST_CASE("sampling between centred and staggered grids") {
  Generator gen(4);
  for (Boundary boundary : {Boundary::periodic, Boundary::neumann}) {
    const Grid2D grid = make_grid(5, 7, boundary);
    // Constants survive both ways (Neumann ghosts copy the edge, periodic wraps).
    const Tensor c = full(grid.centered_shape(2), 3.0, DType::f64);
    const StaggeredField faces = centered_to_staggered(c, c, grid);
    CHECK(max_abs_diff(faces.x_faces, full(grid.x_face_shape(2), 3.0, DType::f64)) < 1e-14);
    const auto [cy, cx] = staggered_to_centered(faces, grid);
    CHECK(max_abs_diff(cx, c) < 1e-14);
    CHECK(max_abs_diff(cy, c) < 1e-14);
  }
  // A field linear in x is reproduced exactly on interior faces of a closed grid.
  const Grid2D grid = make_grid(3, 6, Boundary::dirichlet);
  const Tensor linear = unsqueeze(grid.cell_x() * ones({3, 1}, DType::f64), 0);
  const StaggeredField faces = centered_to_staggered(linear, linear, grid);
  const auto interior = slice(faces.x_faces, 2, 1, 6).to_vector<double>();
  for (int j = 0; j < 5; ++j) CHECK(interior[j] == doctest::Approx((j + 1) * grid.dx()));
}
