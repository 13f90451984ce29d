// Stencils, batched CG, the differentiable linear solve and Poisson.
#include <cmath>

#include "autodiff/node.h"
#include "solvers/linear_solve.h"
#include "solvers/poisson.h"
#include "solvers/stencils.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

double inner(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }

// A(x; c) = −∇²x + c ⊙ x on a 2-D Dirichlet grid: symmetric positive definite for c ≥ 0.
const ParametrisedOperator screened = [](const Tensor& x, const std::vector<Tensor>& p) {
  return neg(laplacian(x, 2, 1.0, 1.0, Boundary::dirichlet)) + p[0] * x;
};

}  // namespace

TEST_CASE("the Laplacian is self-adjoint for every boundary, in 1-D and 2-D") {
  Generator gen(1);
  for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
    const Tensor x = normal({2, 5, 7}, 0, 1, gen, DType::f64), y = normal({2, 5, 7}, 0, 1, gen, DType::f64);
    CHECK(inner(laplacian(x, 2, 0.5, 0.3, boundary), y) ==
          doctest::Approx(inner(x, laplacian(y, 2, 0.5, 0.3, boundary))).epsilon(1e-13));
    CHECK(inner(laplacian(x, 1, 1.0, 0.3, boundary), y) ==
          doctest::Approx(inner(x, laplacian(y, 1, 1.0, 0.3, boundary))).epsilon(1e-13));
  }
  // By hand: 1-D, spacing 1, [1, 4, 9] with zero ghosts: [4 - 2, 1 + 9 - 8, 4 - 18].
  CHECK(
      laplacian(from_vector({1, 4, 9}, {3}, DType::f64), 1, 1, 1, Boundary::dirichlet).to_vector<double>() ==
      std::vector<double>{2, 2, -14});
  // Neumann mirrors the edge: [4 - 1, 2, 4 - 9]; periodic wraps: [9 + 4 - 2, 2, 4 + 1 - 18].
  CHECK(laplacian(from_vector({1, 4, 9}, {3}, DType::f64), 1, 1, 1, Boundary::neumann).to_vector<double>() ==
        std::vector<double>{3, 2, -5});
  CHECK(laplacian(from_vector({1, 4, 9}, {3}, DType::f64), 1, 1, 1, Boundary::periodic).to_vector<double>() ==
        std::vector<double>{11, 2, -13});
}

TEST_CASE("Poisson with Dirichlet boundaries converges at second order to the analytic solution") {
  // Unknowns at x_i = (i + 1)h on (0, 1), boundary nodes at 0 and 1 are the zero ghosts: u = sin(πx)sin(πy).
  std::vector<double> errors;
  for (std::int64_t n : {15, 31, 63}) {
    const double h = 1.0 / static_cast<double>(n + 1);
    const Tensor coords = (arange(0, static_cast<double>(n), 1, DType::f64) + 1.0) * h;
    const Tensor u = reshape(sin(M_PI * coords), {n, 1}) * reshape(sin(M_PI * coords), {1, n});
    const Tensor f = unsqueeze(-2 * M_PI * M_PI * u, 0);
    CgOptions options;
    options.rel_tol = 1e-12;
    CgResult info;
    const Tensor phi = solve_poisson(f, 2, h, h, Boundary::dirichlet, options, Tensor(), &info);
    CHECK(info.all_converged());
    CHECK(info.residual[0] <= 1e-12 * std::sqrt(inner(f, f)));
    errors.push_back(max_abs_diff(phi, unsqueeze(u, 0)));
  }
  CHECK(std::log2(errors[0] / errors[1]) == doctest::Approx(2.0).epsilon(0.1));
  CHECK(std::log2(errors[1] / errors[2]) == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("periodic Poisson: rank-deficient, solved in the zero-mean subspace at second order") {
  std::vector<double> errors;
  for (std::int64_t n : {16, 32, 64}) {
    const double h = 1.0 / static_cast<double>(n);
    const Tensor coords = arange(0, static_cast<double>(n), 1, DType::f64) * h;
    const Tensor u = reshape(sin(2 * M_PI * coords), {n, 1}) * reshape(cos(4 * M_PI * coords), {1, n});
    // f gets a constant added: not in the range of the Laplacian, so it must be projected away.
    const Tensor f = unsqueeze(-20 * M_PI * M_PI * u + 3.0, 0);
    CgOptions options;
    options.rel_tol = 1e-12;
    CgResult info;
    const Tensor phi = solve_poisson(f, 2, h, h, Boundary::periodic, options, Tensor(), &info);
    CHECK(info.all_converged());
    CHECK(std::abs(mean(phi).item()) < 1e-12);
    errors.push_back(max_abs_diff(phi, unsqueeze(u, 0)));
  }
  CHECK(std::log2(errors[0] / errors[1]) == doctest::Approx(2.0).epsilon(0.1));
  CHECK(std::log2(errors[1] / errors[2]) == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("batched CG converges per example; warm start and Jacobi cut iterations") {
  Generator gen(2);
  const Tensor c = uniform({3, 8, 8}, 0.0, 1.0, gen, DType::f64);
  // Example 0 is a zero right-hand side: converged before the first iteration.
  const Tensor b = concat({zeros({1, 8, 8}, DType::f64), normal({2, 8, 8}, 0, 1, gen, DType::f64)}, 0);
  const LinearOperator a = [&](const Tensor& x) { return screened(x, {c}); };
  CgOptions options;
  options.rel_tol = 1e-10;
  const CgResult plain = conjugate_gradient(a, b, Tensor(), options);
  REQUIRE(plain.all_converged());
  CHECK(plain.iterations[0] == 0);
  CHECK(plain.iterations[1] > 5);
  CHECK(max_abs(a(plain.x) - b) < 1e-8);
  const CgResult warm = conjugate_gradient(a, b, plain.x, options);
  CHECK(warm.iterations[1] <= 1);
  // A strongly varying diagonal: Jacobi preconditioning must help.
  const Tensor big = uniform({3, 8, 8}, 1.0, 1000.0, gen, DType::f64);
  const LinearOperator stiff = [&](const Tensor& x) { return screened(x, {big}); };
  const CgResult unpreconditioned = conjugate_gradient(stiff, b, Tensor(), options);
  const CgResult jacobi = conjugate_gradient(stiff, b, Tensor(), options, big + 4.0);
  REQUIRE(jacobi.all_converged());
  CHECK(max_abs(stiff(jacobi.x) - b) < 1e-6);
  CHECK(jacobi.iterations[1] < unpreconditioned.iterations[1]);
}

TEST_CASE("non-convergence is reported per example, strict mode raises, NaN input is an error") {
  Generator gen(3);
  const Tensor b = normal({2, 16, 16}, 0, 1, gen, DType::f64);
  const LinearOperator a = [](const Tensor& x) { return neg(laplacian(x, 2, 1, 1, Boundary::dirichlet)); };
  CgOptions options;
  options.max_iterations = 3;
  // Strict by default: an unconverged solve is an error unless the caller accepts it.
  CHECK(contains(error_message([&] { conjugate_gradient(a, b, Tensor(), options); }), "did not converge"));
  options.strict = false;
  const CgResult result = conjugate_gradient(a, b, Tensor(), options);
  CHECK(!result.converged[0]);
  CHECK(!result.converged[1]);
  CHECK(result.iterations[0] == 3);

  Tensor bad = b.clone();
  bad.data<double>()[5] = NAN;
  const std::string message = error_message([&] { conjugate_gradient(a, bad); });
  CHECK(contains(message, "conjugate_gradient"));
  CHECK(contains(message, "NaN"));
}

TEST_CASE("CG: a warm start worse than zero restarts from zero; options and the diagonal are checked") {
  Generator gen(8);
  const LinearOperator a = [](const Tensor& x) { return neg(laplacian(x, 2, 1, 1, Boundary::dirichlet)); };
  // f32, a right-hand side of size 1 and a start of size 1e3 (‖b − A x0‖ ≈ 8000 ‖b‖): relative to ‖b‖ the
  // tolerance asked for more digits than f32 holds, and the solve diverged.
  const Tensor b = normal({2, 32, 32}, 0, 1, gen, DType::f32);
  const Tensor far = normal({2, 32, 32}, 0, 1e3, gen, DType::f32);
  CgOptions options;
  const CgResult cold = conjugate_gradient(a, b, Tensor(), options);
  const CgResult warm = conjugate_gradient(a, b, far, options);
  CHECK(warm.all_converged());
  CHECK(warm.iterations == cold.iterations);  // it restarted from zero, exactly
  CHECK(max_abs_diff(warm.x, cold.x) == 0.0);

  CgOptions bad = options;
  bad.rel_tol = NAN;
  CHECK(contains(error_message([&] { conjugate_gradient(a, b, Tensor(), bad); }), "tolerances"));
  bad = options;
  bad.max_iterations = -1;
  CHECK(contains(error_message([&] { conjugate_gradient(a, b, Tensor(), bad); }), "max_iterations -1"));
  Tensor diagonal = full({2, 32, 32}, 4.0, DType::f32);
  diagonal.data<float>()[7] = 0;
  CHECK(contains(error_message([&] { conjugate_gradient(a, b, Tensor(), options, diagonal); }),
                 "the diagonal of shape [2, 32, 32] has entries that are not positive and finite"));

  // zero_mean with a non-uniform preconditioner: the result is the zero-mean solution, as documented.
  const LinearOperator periodic = [](const Tensor& x) {
    return neg(laplacian(x, 2, 1, 1, Boundary::periodic));
  };
  const Tensor rhs = normal({2, 16, 16}, 0, 1, gen, DType::f64);
  CgOptions singular;
  singular.zero_mean = true;
  singular.rel_tol = 1e-12;
  const Tensor jacobi = 4.0 + uniform({2, 16, 16}, 0, 1, gen, DType::f64);
  const CgResult projected = conjugate_gradient(periodic, rhs, Tensor(), singular, jacobi);
  CHECK(max_abs(mean(projected.x, {1, 2})) < 1e-12);
  CHECK(max_abs_diff(projected.x, conjugate_gradient(periodic, rhs, Tensor(), singular).x) < 1e-9);
}

TEST_CASE("an operator that is not positive definite is an error naming the example and the iteration") {
  Generator gen(5);
  const Tensor b = normal({3, 4, 4}, 0, 1, gen, DType::f64);
  // A = c·I per example, with c = 1, −2, 1: example 1 meets pᵀAp < 0 in its first iteration.
  const Tensor c = from_vector({1.0, -2.0, 1.0}, {3, 1, 1}, DType::f64);
  const std::string message =
      error_message([&] { conjugate_gradient([&](const Tensor& x) { return c * x; }, b); });
  CHECK(contains(message, "example 1 has pᵀAp = -"));
  CHECK(contains(message, "at iteration 0; the operator is not positive definite"));
}

TEST_CASE(
    "linear_solve: one recorded node, gradients in b and in the operator's parameters match finite "
    "differences") {
  Generator gen(4);
  const Tensor c = uniform({2, 5, 5}, 0.5, 1.5, gen, DType::f64);
  const Tensor b = normal({2, 5, 5}, 0, 1, gen, DType::f64);
  const Tensor target = normal({2, 5, 5}, 0, 1, gen, DType::f64);
  CgOptions options;
  options.rel_tol = 1e-13;
  const Function loss = [&](const std::vector<Tensor>& v) {
    return sum(square(linear_solve(screened, v[0], {v[1]}, options) - target) * v[1]);
  };
  const std::vector<Tensor> inputs{b, c};
  const std::vector<Tensor> grads = grad(loss, inputs);
  for (std::size_t i = 0; i < 2; ++i) {
    const Tensor fd = finite_difference_gradient(loss, inputs, i);
    CHECK(max_abs_diff(grads[i], fd) < 1e-7 * (1 + max_abs(fd)));
  }
  // Second derivative (HVP in b) through the adjoint solve.
  const UnaryFunction of_b = [&](const Tensor& v) { return loss({v, c}); };
  const Tensor dir = normal({2, 5, 5}, 0, 1, gen, DType::f64);
  const double eps = 1e-5;
  const Tensor fd_hvp = (grad(of_b, b + eps * dir) - grad(of_b, b - eps * dir)) / (2 * eps);
  CHECK(max_abs_diff(hvp(of_b, b, dir), fd_hvp) < 1e-6 * (1 + max_abs(fd_hvp)));
  // The iterations are not recorded: the output's node links straight to b and c.
  Tensor leaf_b = b.clone(), leaf_c = c.clone();
  leaf_b.requires_grad_();
  leaf_c.requires_grad_();
  const Tensor x = linear_solve(screened, leaf_b, {leaf_c}, options);
  REQUIRE(x.node()->inputs.size() == 2);
  CHECK(x.node()->inputs[0] == leaf_b.node());
  CHECK(x.node()->inputs[1] == leaf_c.node());
}

TEST_CASE("solve_poisson refuses dims other than 1 or 2 and spacings that are not positive and finite") {
  // dims = 3 once said "expected at least 3 axes" for a [1, 4, 4, 4] input; dx = inf was accepted.
  const Tensor f = zeros({1, 4, 4, 4}, DType::f64);
  CHECK(contains(error_message([&] { solve_poisson(f, 3, 1, 1, Boundary::dirichlet, {}); }),
                 "dims must be 1 or 2, got 3"));
  CHECK(contains(error_message([&] {
                   solve_poisson(zeros({1, 4, 4}, DType::f64), 2, 1, INFINITY, Boundary::dirichlet, {});
                 }),
                 "grid spacings must be positive and finite"));
}
