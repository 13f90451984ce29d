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

TEST_CASE("weighted_poisson equals −∇·(w ∇p) + d p composed of the staggered stencils, and is symmetric") {
  Generator gen(7);
  for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
    for (DType dtype : {DType::f64, DType::f32}) {
      const Grid2D grid = make_grid(5, 7, boundary);
      // Weights shared by the batch and per example; with and without a diagonal.
      for (std::int64_t weight_batch : {1, 2}) {
        const StaggeredField w{uniform(grid.x_face_shape(weight_batch), 0, 1, gen, dtype),
                               uniform(grid.y_face_shape(weight_batch), 0, 1, gen, dtype)};
        const Tensor d = uniform(grid.centered_shape(weight_batch), 0, 3, gen, dtype);
        const Tensor p = normal(grid.centered_shape(2), 0, 1, gen, dtype);
        const StaggeredField g = staggered_gradient(p, grid);
        const Tensor flux_divergence =
            neg(staggered_divergence({w.x_faces * g.x_faces, w.y_faces * g.y_faces}, grid));
        const double tolerance = dtype == DType::f64 ? 1e-12 : 1e-4;
        INFO("boundary " << static_cast<int>(boundary) << ", weight batch " << weight_batch);
        CHECK(max_abs_diff(weighted_poisson(p, w, Tensor(), grid), flux_divergence) < tolerance);
        CHECK(max_abs_diff(weighted_poisson(p, w, d, grid), flux_divergence + d * p) < tolerance);
        if (dtype == DType::f32) continue;
        const Tensor q = normal(grid.centered_shape(2), 0, 1, gen, dtype);
        CHECK(inner(weighted_poisson(p, w, d, grid), q) ==
              doctest::Approx(inner(p, weighted_poisson(q, w, d, grid))).epsilon(1e-13));
        // Its gradient against finite differences (a quadratic form, so the VJP is exercised off symmetry).
        const Function form = [&](const std::vector<Tensor>& in) {
          return sum(q * square(weighted_poisson(in[0], w, d, grid)));
        };
        const Tensor fd = dphys::test::finite_difference_gradient(form, {p}, 0);
        CHECK(max_abs_diff(grad(form, {p})[0], fd) < 1e-7 * (1 + dphys::test::max_abs(fd)));
      }
    }
  }
  const Grid2D grid = make_grid(5, 7, Boundary::neumann);
  const Tensor p = zeros(grid.centered_shape(1), DType::f64);
  const StaggeredField w{ones(grid.x_face_shape(1), DType::f64), ones(grid.y_face_shape(3), DType::f64)};
  CHECK(dphys::test::contains(dphys::test::error_message([&] { weighted_poisson(p, w, Tensor(), grid); }),
                              "y-face weights must be f64 [1 or 1, 6, 7]"));
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

TEST_CASE("1-D grids: divergence of the gradient is the Laplacian; a linear field has a constant gradient") {
  Generator gen(5);
  for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
    Grid1D grid;
    grid.n = 9;
    grid.length = 3.0;
    grid.boundary = boundary;
    const Tensor p = normal(grid.centered_shape(2), 0, 1, gen, DType::f64);
    CHECK(max_abs_diff(staggered_divergence(staggered_gradient(p, grid), grid), laplacian(p, grid)) < 1e-12);
  }
  Grid1D grid;
  grid.n = 6;
  grid.length = 3.0;
  grid.boundary = Boundary::neumann;
  const Tensor line = unsqueeze(2.0 * grid.cell_x(), 0);
  const auto g = staggered_gradient(line, grid).to_vector<double>();
  for (int i = 1; i < 6; ++i) CHECK(g[i] == doctest::Approx(2.0));
  CHECK(g[0] == 0.0);  // Neumann: no flux through the walls
}

TEST_CASE("the composed linear operators satisfy the adjoint identity with their VJPs") {
  Generator gen(6);
  const auto check_adjoint = [&](const char* name, const Function& op, const std::vector<Shape>& shapes) {
    INFO(name);
    std::vector<Tensor> xs;
    for (const Shape& s : shapes) xs.push_back(normal(s, 0, 1, gen, DType::f64));
    const Tensor y = normal(op(xs).shape(), 0, 1, gen, DType::f64);
    const auto [value, adjoint] = vjp(op, xs, y);
    double rhs = 0.0;
    for (std::size_t i = 0; i < xs.size(); ++i) rhs += inner(xs[i], adjoint[i]);
    CHECK(inner(value, y) == doctest::Approx(rhs).epsilon(1e-12));
  };
  for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
    const Grid2D grid = make_grid(4, 5, boundary);
    check_adjoint("centered_gradient",
                  [&](const std::vector<Tensor>& v) {
                    const auto [gy, gx] = centered_gradient(v[0], grid);
                    return concat({flatten(gy), flatten(gx)}, 0);
                  },
                  {grid.centered_shape(2)});
    check_adjoint("centered_to_staggered",
                  [&](const std::vector<Tensor>& v) {
                    const StaggeredField f = centered_to_staggered(v[0], v[1], grid);
                    return concat({flatten(f.x_faces), flatten(f.y_faces)}, 0);
                  },
                  {grid.centered_shape(2), grid.centered_shape(2)});
    check_adjoint("staggered_to_centered",
                  [&](const std::vector<Tensor>& v) {
                    const auto [cy, cx] = staggered_to_centered({v[0], v[1]}, grid);
                    return concat({flatten(cy), flatten(cx)}, 0);
                  },
                  {grid.x_face_shape(2), grid.y_face_shape(2)});
    check_adjoint("staggered_gradient",
                  [&](const std::vector<Tensor>& v) {
                    const StaggeredField f = staggered_gradient(v[0], grid);
                    return concat({flatten(f.x_faces), flatten(f.y_faces)}, 0);
                  },
                  {grid.centered_shape(2)});
  }
}

TEST_CASE("grid coordinates are cell centres in the requested dtype") {
  Grid2D grid = make_grid(2, 4, Boundary::periodic);
  grid.x0 = 1.0;
  CHECK(grid.cell_x(DType::f32).dtype() == DType::f32);
  CHECK(grid.cell_x().to_vector<double>() == std::vector<double>{1.25, 1.75, 2.25, 2.75});
  CHECK(grid.cell_y().to_vector<double>() == std::vector<double>{0.375, 1.125});
}
