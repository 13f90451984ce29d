// Second-order methods against closed forms: Gauss–Newton and Newton steps on least-squares problems and
// quadratics, saddle-free Newton at a saddle, Hessian-free and AdaHessian on ill-conditioned quadratics.
#include <cmath>

#include "optim/adahessian.h"
#include "optim/gauss_newton.h"
#include "optim/hessian_free.h"
#include "optim/newton.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::optim;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

std::vector<double> values(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

// Solves the n×n system a·x = b (row-major a) by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<double> a, std::vector<double> b) {
  const std::size_t n = b.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t row = col + 1; row < n; ++row)
      if (std::abs(a[row * n + col]) > std::abs(a[pivot * n + col])) pivot = row;
    for (std::size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (std::size_t row = col + 1; row < n; ++row) {
      const double factor = a[row * n + col] / a[col * n + col];
      for (std::size_t k = col; k < n; ++k) a[row * n + k] -= factor * a[col * n + k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (std::size_t row = n; row-- > 0;) {
    double rest = b[row];
    for (std::size_t k = row + 1; k < n; ++k) rest -= a[row * n + k] * x[k];
    x[row] = rest / a[row * n + row];
  }
  return x;
}

// Row b of the batched matrix-vector product m [B, r, c] · x [B, c].
Tensor batched_matvec(const Tensor& m, const Tensor& x) {
  return reshape(matmul(m, unsqueeze(x, -1)), {x.size(0), m.size(1)});
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tolerance) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tolerance));
}

// Curvatures 10^{4i/9}, i = 0..9: condition number 10⁴.
std::vector<double> ill_conditioned_curvature() {
  std::vector<double> a;
  for (int i = 0; i < 10; ++i) a.push_back(std::pow(10.0, 4.0 * i / 9.0));
  return a;
}

}  // namespace

TEST_CASE("Gauss-Newton solves linear least squares in one step: the normal-equations solution") {
  // Two problems r_b(x) = A_b x − y_b with A_b of shape 5×3 and full column rank.
  const std::vector<double> a{1, 2, 0, 0, 1, 1, 3, -1, 2, 1,  1, 1, -2, 0, 1,    // problem 0
                              2, 0, 1, 1, 3, 0, 0, 1,  4, -1, 2, 2, 1,  1, -3};  // problem 1
  const std::vector<double> y{1, -2, 3, 0.5, 4, 2, 1, -1, 0, 3};
  const Tensor A = from_vector(a, {2, 5, 3}, DType::f64);
  const Tensor Y = from_vector(y, {2, 5}, DType::f64);
  const auto residual = [&](const Tensor& x) { return batched_matvec(A, x) - Y; };
  const Tensor x0 = from_vector({0.3, -1.0, 2.0, 5.0, 0.0, -4.0}, {2, 3}, DType::f64);

  const GaussNewtonStep step = gauss_newton_step(residual, x0);
  CHECK(step.rank == std::vector<int>{3, 3});
  CHECK(max_abs_diff(step.jacobian, A) < 1e-14);
  const std::vector<double> x1 = values(x0 + step.delta);
  for (int b = 0; b < 2; ++b) {
    // x* = (AᵀA)⁻¹Aᵀy.
    std::vector<double> ata(9, 0.0), aty(3, 0.0);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 3; ++j) {
        aty[j] += a[b * 15 + i * 3 + j] * y[b * 5 + i];
        for (int k = 0; k < 3; ++k) ata[j * 3 + k] += a[b * 15 + i * 3 + j] * a[b * 15 + i * 3 + k];
      }
    const std::vector<double> expected = solve(ata, aty);
    for (int j = 0; j < 3; ++j) CHECK(x1[b * 3 + j] == doctest::Approx(expected[j]).epsilon(1e-11));
  }
  // A second step from the solution does not move.
  CHECK(max_abs(gauss_newton_step(residual, x0 + step.delta).delta) < 1e-12);
}

TEST_CASE("Gauss-Newton leaves null and truncated directions alone") {
  // r(x) = x₀ + x₁ − 2: J = [1, 1] has the null direction (1, −1); J⁺r is the minimum-norm step (1, 1).
  const Tensor origin = zeros({1, 2}, DType::f64);
  const auto sum_residual = [](const Tensor& x) { return sum(x, {1}, true) - 2.0; };
  const GaussNewtonStep null_step = gauss_newton_step(sum_residual, origin);
  check_close(values(null_step.delta), {1.0, 1.0}, 1e-14);
  CHECK(null_step.rank == std::vector<int>{1});

  // r(x) = (x₀ − 1, 10⁻⁹·(x₁ − 5)): singular values 1 and 10⁻⁹. τ = 10⁻⁶ drops the second mode, so x₁ stays;
  // τ = 10⁻¹² keeps it and the step solves the problem exactly.
  const Tensor scale = from_vector({1.0, 1e-9}, {1, 2}, DType::f64);
  const Tensor target = from_vector({1.0, 5.0}, {1, 2}, DType::f64);
  const auto stiff = [&](const Tensor& x) { return scale * (x - target); };
  const GaussNewtonStep truncated = gauss_newton_step(stiff, origin);
  CHECK(truncated.rank == std::vector<int>{1});
  check_close(values(truncated.delta), {1.0, 0.0}, 1e-14);
  GaussNewtonOptions keep_all;
  keep_all.rcond = 1e-12;
  const GaussNewtonStep full = gauss_newton_step(stiff, origin, keep_all);
  CHECK(full.rank == std::vector<int>{2});
  check_close(values(full.delta), {1.0, 5.0}, 1e-9);

  CHECK(contains(error_message([] { gauss_newton_solve(zeros({2, 3}), zeros({2, 3})); }), "[B, m, d]"));
  CHECK(contains(error_message([&] { gauss_newton_step([](const Tensor& x) { return sum(x); }, origin); }),
                 "expected [1, m]"));
}

TEST_CASE("Gauss-Newton and Newton: empty problems give empty or zero steps, NaN and Inf are errors") {
  // Eigen's SVD and eigensolver crashed on these shapes.
  for (const Shape& shape : {Shape{2, 0, 3}, Shape{2, 3, 0}, Shape{1, 0, 0}}) {
    CAPTURE(shape_str(shape));
    const GaussNewtonStep step =
        gauss_newton_solve(zeros(shape, DType::f64), zeros({shape[0], shape[1]}, DType::f64));
    CHECK(step.delta.shape() == Shape{shape[0], shape[2]});
    CHECK((step.delta.numel() == 0 || max_abs(step.delta) == 0.0));
  }
  CHECK(newton_direction(zeros({2, 0}, DType::f64), zeros({2, 0, 0}, DType::f64)).shape() == Shape{2, 0});
  // A NaN in J once gave a step of 1e294 with rank 1, an Inf a zero step.
  const Tensor j = from_vector({1.0, 2.0, NAN, 4.0}, {1, 2, 2}, DType::f64), r = ones({1, 2}, DType::f64);
  CHECK(contains(error_message([&] { gauss_newton_solve(j, r); }),
                 "the jacobian of shape [1, 2, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   gauss_newton_solve(ones({1, 2, 2}, DType::f64), r * INFINITY);
                 }),
                 "the residual of shape [1, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] { newton_direction(r, j); }),
                 "hessian of shape [1, 2, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   saddle_free_newton_direction(r * NAN, ones({1, 2, 2}, DType::f64));
                 }),
                 "grad of shape [1, 2] contains NaN or Inf"));
}

TEST_CASE("Newton solves quadratics in one step and matches H^-1 g; the Hessian is the autodiff one") {
  // f_b(x) = ½xᵀQ_b x − c_bᵀx with symmetric positive definite Q_b.
  const std::vector<double> q{4,  1, 0.5, 1, 3, -1,  0.5, -1,  2,     // problem 0
                              10, 2, 0,   2, 1, 0.3, 0,   0.3, 0.5};  // problem 1
  const std::vector<double> c{1, -2, 0.5, 3, 0, -1};
  const Tensor Q = from_vector(q, {2, 3, 3}, DType::f64);
  const Tensor C = from_vector(c, {2, 3}, DType::f64);
  const auto f = [&](const Tensor& x) { return 0.5 * sum(x * batched_matvec(Q, x), {1}) - sum(C * x, {1}); };
  const Tensor x0 = from_vector({1.0, 2.0, -1.0, 0.5, -0.5, 3.0}, {2, 3}, DType::f64);

  const NewtonStep step = newton_step(f, x0);
  CHECK(max_abs_diff(step.at.hessian, Q) < 1e-13);
  CHECK(max_abs_diff(step.at.grad, batched_matvec(Q, x0) - C) < 1e-13);
  CHECK(max_abs_diff(step.at.loss, f(x0)) < 1e-13);
  const std::vector<double> g = values(step.at.grad), x = values(x0), delta = values(step.delta);
  for (int b = 0; b < 2; ++b) {
    const std::vector<double> qb(q.begin() + 9 * b, q.begin() + 9 * (b + 1));
    const std::vector<double> h_inv_g = solve(qb, {g[3 * b], g[3 * b + 1], g[3 * b + 2]});
    const std::vector<double> minimum = solve(qb, {c[3 * b], c[3 * b + 1], c[3 * b + 2]});
    for (int j = 0; j < 3; ++j) {
      CHECK(delta[3 * b + j] == doctest::Approx(-h_inv_g[j]).epsilon(1e-12));
      CHECK(x[3 * b + j] + delta[3 * b + j] == doctest::Approx(minimum[j]).epsilon(1e-12));
    }
  }
  // With Q positive definite and no cap, saddle-free Newton is Newton (sip.md §3.3 check 5).
  CHECK(max_abs_diff(saddle_free_newton_step(f, x0).delta, step.delta) < 1e-12);
  // Levenberg damping solves (H + λI)Δ = −g.
  NewtonOptions damped;
  damped.damping = 2.0;
  const std::vector<double> q0_damped{6, 1, 0.5, 1, 5, -1, 0.5, -1, 4};
  const std::vector<double> expected = solve(q0_damped, {g[0], g[1], g[2]});
  const std::vector<double> got = values(newton_direction(step.at.grad, step.at.hessian, damped));
  for (int j = 0; j < 3; ++j) CHECK(got[j] == doctest::Approx(-expected[j]).epsilon(1e-12));

  // f32 problems get an f32 step, computed in f64 inside.
  const NewtonStep single = newton_step(
      [&](const Tensor& z) { return cast(f(cast(z, DType::f64)), DType::f32); }, cast(x0, DType::f32));
  CHECK(single.delta.dtype() == DType::f32);
  CHECK(max_abs_diff(single.delta, step.delta) < 1e-5);

  // A non-quadratic f = x₀²x₁ + sin x₁: H = [[2x₁, 2x₀], [2x₀, −sin x₁]] at each row.
  const auto cubic = [](const Tensor& z) {
    const Tensor x0 = slice(z, 1, 0, 1), x1 = slice(z, 1, 1, 2);
    return reshape(x0 * x0 * x1 + sin(x1), {z.size(0)});
  };
  const Tensor points = from_vector({0.5, 1.5, -2.0, 0.25}, {2, 2}, DType::f64);
  const BatchedDerivatives at = batched_hessian(cubic, points);
  const std::vector<double> expected_hessian{3.0, 1.0, 1.0, -std::sin(1.5), 0.5, -4.0, -4.0, -std::sin(0.25)};
  check_close(values(at.hessian), expected_hessian, 1e-13);
}

TEST_CASE("saddle-free Newton moves away from the saddle of x^2 - y^2 where Newton moves onto it") {
  // H = diag(2, −2), g = (2x, −2y): −|H|⁻¹g = (−x, y), −H⁻¹g = (−x, −y).
  const auto saddle = [](const Tensor& z) {
    return reshape(square(slice(z, 1, 0, 1)) - square(slice(z, 1, 1, 2)), {z.size(0)});
  };
  const Tensor points = from_vector({1.0, 0.5, -0.5, 2.0}, {2, 2}, DType::f64);
  const NewtonStep free = saddle_free_newton_step(saddle, points);
  check_close(values(free.delta), {-1.0, 0.5, 0.5, 2.0}, 1e-12);
  const std::vector<double> before = values(saddle(points)), after = values(saddle(points + free.delta));
  for (int b = 0; b < 2; ++b) CHECK(after[b] < before[b]);
  CHECK(max_abs(points + newton_step(saddle, points).delta) < 1e-12);  // Newton lands on the saddle
  // Descent: gᵀΔ < 0 for every problem.
  for (double slope : values(sum(free.at.grad * free.delta, {1}))) CHECK(slope < 0.0);

  // Damping adds to |s|: Δ = (−2x/3, 2y/3) with curvature 2 + 1.
  SaddleFreeOptions damped;
  damped.damping = 1.0;
  check_close(values(saddle_free_newton_direction(free.at.grad, free.at.hessian, damped)),
              {-2.0 / 3, 1.0 / 3, 1.0 / 3, 4.0 / 3}, 1e-12);
  // A floor on the curvature: max(|s|, 4) = 4 gives Δ = (−x/2, y/2).
  SaddleFreeOptions floored;
  floored.min_curvature = 4.0;
  check_close(values(saddle_free_newton_direction(free.at.grad, free.at.hessian, floored)),
              {-0.5, 0.25, 0.25, 1.0}, 1e-12);
}

TEST_CASE(
    "saddle-free Newton with the SIP cap: directions at or below the geometric-mean curvature are capped") {
  SaddleFreeOptions sip;
  sip.max_loss_change = 0.2;
  // f = x² − y² at (1, 0.5): g = (2, −1), s = (2, −2), s_avg = 2. Neither s exceeds s_avg, so both are
  // capped: x: min(2/2, 0.2/2) = 0.1 downhill; y: min(1/2, 0.2/1) = 0.2 downhill.
  const Tensor g1 = from_vector({2.0, -1.0}, {1, 2}, DType::f64);
  const Tensor h1 = from_vector({2.0, 0.0, 0.0, -2.0}, {1, 2, 2}, DType::f64);
  check_close(values(saddle_free_newton_direction(g1, h1, sip)), {-0.1, 0.2}, 1e-12);
  // f = 2x² − ½y² at (1, 1): g = (4, −1), s = (4, −1), s_avg = 2. x keeps its Newton length 4/4 = 1; y is
  // capped at 0.2/1 = 0.2 instead of 1/1.
  const Tensor g2 = from_vector({4.0, -1.0}, {1, 2}, DType::f64);
  const Tensor h2 = from_vector({4.0, 0.0, 0.0, -1.0}, {1, 2, 2}, DType::f64);
  check_close(values(saddle_free_newton_direction(g2, h2, sip)), {-1.0, 0.2}, 1e-12);
  // d = 3, s = (5, 1, −20): s_avg = 100^{1/3} ≈ 4.64 (the arithmetic mean of |s| would be 8.67), so only the
  // first direction keeps its Newton length 2/5; the others get min(1/1, 0.2/1) and min(1/20, 0.2/1).
  const Tensor g4 = from_vector({2.0, 1.0, 1.0}, {1, 3}, DType::f64);
  const Tensor h4 = from_vector({5.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -20.0}, {1, 3, 3}, DType::f64);
  check_close(values(saddle_free_newton_direction(g4, h4, sip)), {-0.4, -0.2, -0.05}, 1e-12);
  // A rotated copy of the second problem: the cap acts in the eigenbasis, so the step rotates along.
  const double cs = std::cos(0.3), sn = std::sin(0.3);
  const std::vector<double> r{cs, -sn, sn, cs};
  // H' = R diag(4, −1) Rᵀ, g' = R g.
  const std::vector<double> h_rot{4 * cs * cs - sn * sn, 4 * cs * sn + sn * cs, 4 * cs * sn + sn * cs,
                                  4 * sn * sn - cs * cs};
  const Tensor g3 = from_vector({cs * 4 - sn * -1, sn * 4 + cs * -1}, {1, 2}, DType::f64);
  const Tensor h3 = from_vector(h_rot, {1, 2, 2}, DType::f64);
  check_close(values(saddle_free_newton_direction(g3, h3, sip)), {cs * -1 - sn * 0.2, sn * -1 + cs * 0.2},
              1e-12);
  CHECK(contains(error_message([&] {
                   SaddleFreeOptions bad;
                   bad.max_loss_change = 0.0;
                   saddle_free_newton_direction(g1, h1, bad);
                 }),
                 "max_loss_change"));
}

TEST_CASE("Hessian-free: one undamped-model step solves (H + lambda I) d = -g") {
  const std::vector<double> a = ill_conditioned_curvature();
  const Tensor curvature = from_vector(a, {10}, DType::f64);
  const Tensor theta = ones({10}, DType::f64).requires_grad_();
  HessianFreeOptions plain;
  plain.adapt_damping = false;
  plain.cg_backtracking = false;
  plain.line_search = false;
  plain.cg_tolerance = 1e-12;
  HessianFree optimizer({theta}, plain);
  const HessianFreeReport report = optimizer.step([&] { return 0.5 * sum(curvature * theta * theta); });
  // θ₁ = θ₀ − (H + I)⁻¹Hθ₀ = θ₀/(1 + a).
  std::vector<double> expected;
  for (double ai : a) expected.push_back(1.0 / (1.0 + ai));
  check_close(values(theta), expected, 1e-9);
  CHECK(report.cg_iterate == report.cg_iterations);  // without backtracking the last iterate is taken
  CHECK(report.step_size == 1.0);
  CHECK(report.damping == 1.0);
  CHECK(optimizer.damping() == 1.0);
}

TEST_CASE("Hessian-free with the Hessian reduces an ill-conditioned 10-D quadratic monotonically") {
  const std::vector<double> a = ill_conditioned_curvature();
  const Tensor curvature = from_vector(a, {10}, DType::f64);
  const Tensor theta = ones({10}, DType::f64).requires_grad_();
  const auto loss = [&] { return 0.5 * sum(curvature * theta * theta); };
  HessianFree optimizer({theta});
  const double initial = loss().item();
  double previous = initial;
  for (int step = 0; step < 10; ++step) {
    const HessianFreeReport report = optimizer.step(loss);
    CHECK(report.loss == doctest::Approx(previous).epsilon(1e-12));
    CHECK(report.new_loss < report.loss);
    CHECK(report.new_loss == doctest::Approx(loss().item()).epsilon(1e-12));
    // For the exact d = −(H + λI)⁻¹g, the actual decrease Σ gᵢ²(aᵢ + 2λ)/(2(aᵢ + λ)²) exceeds the damped
    // model's Σ gᵢ²/(2(aᵢ + λ)) by a factor in (1, 2), so λ shrinks by 2/3 every step.
    CHECK(report.rho > 1.0);
    CHECK(report.rho < 2.0);
    if (step == 0) {
      double actual = 0.0, model = 0.0;
      for (double ai : a) {  // g = a at θ = 1, λ = 1
        actual += ai * ai * (ai + 2.0) / ((ai + 1.0) * (ai + 1.0));
        model += ai * ai / (ai + 1.0);
      }
      CHECK(report.rho == doctest::Approx(actual / model).epsilon(1e-6));
    }
    previous = report.new_loss;
  }
  CHECK(optimizer.damping() == doctest::Approx(std::pow(2.0 / 3.0, 10)).epsilon(1e-12));
  MESSAGE("Hessian-free (Hessian), loss after 10 steps / initial: " << previous / initial);
  CHECK(previous < 1e-16 * initial);
}

TEST_CASE("Hessian-free with the Gauss-Newton matrix: exact GGN step and monotone descent") {
  // Nonlinear outputs z(θ) = (θ₀², θ₀θ₁, sin θ₁) with ℓ(z) = ½ Σ wᵢ(zᵢ − yᵢ)²: G = JᵀWJ, which differs from
  // the Hessian (z is not linear) and from JᵀJ (W ≠ I).
  const Tensor theta = from_vector({0.7, -0.4}, {2}, DType::f64).requires_grad_();
  const Tensor y = from_vector({1.0, 0.5, 0.2}, {3}, DType::f64);
  const auto outputs = [&] {
    const Tensor t0 = slice(theta, 0, 0, 1), t1 = slice(theta, 0, 1, 2);
    return concat({t0 * t0, t0 * t1, sin(t1)});
  };
  const Tensor w = from_vector({1.0, 3.0, 0.5}, {3}, DType::f64);
  const auto output_loss = [&](const Tensor& z) { return 0.5 * sum(w * square(z - y)); };
  HessianFreeOptions plain;
  plain.adapt_damping = false;
  plain.cg_backtracking = false;
  plain.line_search = false;
  plain.cg_tolerance = 1e-14;
  plain.damping = 0.5;
  HessianFree ggn({theta}, plain);
  ggn.step(outputs, output_loss);
  // J = [[2θ₀, 0], [θ₁, θ₀], [0, cos θ₁]]; θ₁ = θ₀ − (JᵀWJ + λI)⁻¹JᵀWr.
  const double t0 = 0.7, t1 = -0.4;
  const std::vector<double> J{2 * t0, 0, t1, t0, 0, std::cos(t1)};
  const std::vector<double> r{t0 * t0 - 1.0, t0 * t1 - 0.5, std::sin(t1) - 0.2}, weight{1.0, 3.0, 0.5};
  std::vector<double> jtj(4, 0.0), jtr(2, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) {
      jtr[j] += J[i * 2 + j] * weight[i] * r[i];
      for (int k = 0; k < 2; ++k) jtj[j * 2 + k] += J[i * 2 + j] * weight[i] * J[i * 2 + k];
    }
  jtj[0] += 0.5;
  jtj[3] += 0.5;
  const std::vector<double> d = solve(jtj, jtr);
  check_close(values(theta), {t0 - d[0], t1 - d[1]}, 1e-12);

  // Linear least squares ½‖Ax − b‖²: the GGN is the Hessian AᵀA, here with eigenvalues 10^{4i/9}.
  const std::vector<double> s = ill_conditioned_curvature();
  std::vector<double> a_values(100), u(10);
  for (int i = 0; i < 10; ++i) u[i] = 1.0 + i;
  double uu = 0.0;
  for (double ui : u) uu += ui * ui;
  for (int i = 0; i < 10; ++i)  // A = diag(√s)·(I − 2uuᵀ/uᵀu)
    for (int j = 0; j < 10; ++j) a_values[i * 10 + j] = std::sqrt(s[i]) * ((i == j) - 2 * u[i] * u[j] / uu);
  const Tensor A = from_vector(a_values, {10, 10}, DType::f64);
  const Tensor b = from_vector({1, -1, 2, 0, 3, -2, 1, 1, 0, -1}, {10, 1}, DType::f64);
  const Tensor x = zeros({10, 1}, DType::f64).requires_grad_();
  const auto residual = [&] { return matmul(A, x) - b; };
  const auto half_square = [](const Tensor& z) { return 0.5 * sum(square(z)); };
  HessianFree optimizer({x});
  const double initial = half_square(residual()).item();
  double previous = initial;
  for (int step = 0; step < 10; ++step) {
    const HessianFreeReport report = optimizer.step(residual, half_square);
    CHECK(report.new_loss < previous);
    previous = report.new_loss;
  }
  MESSAGE("Hessian-free (GGN), loss after 10 steps / initial: " << previous / initial);
  CHECK(previous < 1e-16 * initial);
  CHECK(contains(error_message([&] { optimizer.step([&] { return residual(); }); }), "one element"));
}

TEST_CASE("AdaHessian matches the hand computation on a diagonal quadratic, where |Hv| = |diag H|") {
  // f = ½ Σ aᵢθᵢ² with one negative curvature: g = a⊙θ and Hv = a⊙v, so h = |a| whatever the probe.
  const std::vector<double> a{1.0, 0.5, -4.0, 100.0};
  const std::vector<double> start{1.0, -2.0, 0.5, 0.01};
  const Tensor curvature = from_vector(a, {4}, DType::f64);
  for (const double power : {0.5, 1.0}) {
    for (const double decay : {0.0, 0.1}) {
      AdaHessianOptions options;
      options.lr = 0.1;
      options.hessian_power = power;
      options.weight_decay = decay;
      const Tensor theta = from_vector(start, {4}, DType::f64).requires_grad_();
      AdaHessian optimizer({theta}, options);
      std::vector<double> expected = start, m(4, 0.0), s(4, 0.0), last_grad(4);
      for (int t = 1; t <= 3; ++t) {
        const double loss = optimizer.step([&] { return 0.5 * sum(curvature * theta * theta); });
        double expected_loss = 0.0;
        for (int i = 0; i < 4; ++i) {
          last_grad[i] = a[i] * expected[i];
          expected_loss += 0.5 * a[i] * expected[i] * expected[i];
          const double g = a[i] * expected[i], h = std::abs(a[i]);
          m[i] = 0.9 * m[i] + 0.1 * g;
          s[i] = 0.999 * s[i] + 0.001 * h * h;
          const double denom = std::pow(std::sqrt(s[i]) / std::sqrt(1 - std::pow(0.999, t)), power) + 1e-4;
          expected[i] -= 0.1 * (m[i] / (1 - std::pow(0.9, t)) / denom + decay * expected[i]);
        }
        CHECK(loss == doctest::Approx(expected_loss).epsilon(1e-12));
        check_close(values(theta), expected, 1e-12);
        if (t == 1 && decay == 0.0)  // m̂ = g and √ŝ = |a|: θ₁ = θ₀ − lr·aθ₀/(|a|^k + ε)
          for (int i = 0; i < 4; ++i)
            CHECK(expected[i] == doctest::Approx(start[i] - 0.1 * a[i] * start[i] /
                                                                (std::pow(std::abs(a[i]), power) + 1e-4)));
      }
      // The gradient at the last step's starting point was stored in .grad; the state has the documented
      // names.
      check_close(values(theta.grad()), last_grad, 1e-12);
      std::vector<std::string> names;
      for (const auto& entry : optimizer.state()) names.push_back(entry.first);
      CHECK(names == std::vector<std::string>{"lr", "param.0.step", "param.0.exp_avg",
                                              "param.0.exp_hessian_diag_sq", "probe_offset"});
    }
  }
}

TEST_CASE("AdaHessian averages |Hv| of a [O, C, 3, 3] kernel over its 3x3 blocks") {
  // f = ½ Σ a w² over a [2, 3, 3, 3] kernel with a different curvature in every element.
  std::vector<double> a(54), w(54);
  for (int i = 0; i < 54; ++i) {
    a[i] = (i % 2 == 0 ? 1.0 : -1.0) * (1.0 + (i * 7) % 11);
    w[i] = 0.1 * ((i * 5) % 9) - 0.4;
  }
  const Tensor curvature = from_vector(a, {2, 3, 3, 3}, DType::f64);
  const Tensor kernel = from_vector(w, {2, 3, 3, 3}, DType::f64).requires_grad_();
  const Tensor bias = from_vector({0.5, -0.5}, {2}, DType::f64).requires_grad_();
  AdaHessianOptions options;
  options.lr = 0.01;
  AdaHessian optimizer({kernel, bias}, options);
  optimizer.step([&] { return 0.5 * sum(curvature * kernel * kernel) + 2.0 * sum(bias * bias); });
  // Block (o, c) holds elements 9(3o + c) … 9(3o + c) + 8; h_oc = mean |a| over them. After one step √ŝ =
  // h_oc and m̂ = g, so w₁ = w₀ − lr·a·w₀/(√h_oc + ε); the bias (Hv = 4v) moves by lr·4b/(√4 + ε).
  std::vector<double> expected_w(54), expected_s(54);
  for (int block = 0; block < 6; ++block) {
    double h = 0.0;
    for (int k = 0; k < 9; ++k) h += std::abs(a[9 * block + k]) / 9.0;
    for (int k = 0; k < 9; ++k) {
      const int i = 9 * block + k;
      expected_w[i] = w[i] - 0.01 * a[i] * w[i] / (std::sqrt(h) + 1e-4);
      expected_s[i] = 0.001 * h * h;
    }
  }
  check_close(values(kernel), expected_w, 1e-12);
  check_close(values(bias), {0.5 - 0.01 * 2.0 / (2.0 + 1e-4), -0.5 + 0.01 * 2.0 / (2.0 + 1e-4)}, 1e-12);
  for (const auto& [name, tensor] : optimizer.state())
    if (name == "param.0.exp_hessian_diag_sq") {
      CHECK(tensor.shape() == Shape{2, 3, 3, 3});
      check_close(values(tensor), expected_s, 1e-12);
    }
  CHECK(contains(error_message([] {
                   AdaHessian({zeros({2, 3, 3}, DType::f64).requires_grad_()});
                 }),
                 "[2, 3, 3]"));
}

TEST_CASE("AdaHessian probes the full Hessian with seeded Rademacher vectors") {
  // H = [[2, 1], [1, 2]]: Hv = (2v₀ + v₁, v₀ + 2v₁) has |Hv| = (3, 3) for v = ±(1, 1) and (1, 1) for v = ±(1,
  // −1); the diagonal alone would give (2, 2).
  const Tensor H = from_vector({2.0, 1.0, 1.0, 2.0}, {2, 2}, DType::f64);
  std::vector<double> first_s;
  int equal = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    const Tensor theta = from_vector({1.0, -1.0}, {2, 1}, DType::f64).requires_grad_();
    AdaHessianOptions options;
    options.seed = seed;
    AdaHessian optimizer({theta}, options);
    const auto loss = [&] { return 0.5 * sum(theta * matmul(H, theta)); };
    for (int t = 0; t < 4; ++t) {
      const double before = optimizer.state().size() > 2 ? values(optimizer.state()[3].second)[0] : 0.0;
      optimizer.step(loss);
      const std::vector<double> s = values(optimizer.state()[3].second);
      CHECK(s[0] == s[1]);
      const double h2 = (s[0] - 0.999 * before) / 0.001;
      CHECK((h2 == doctest::Approx(9.0) || h2 == doctest::Approx(1.0)));
      equal += h2 > 5.0;
      ++total;
    }
    if (seed == 0) first_s = values(optimizer.state()[3].second);
  }
  // Both sign patterns turn up, about equally often.
  CHECK(equal > total / 4);
  CHECK(equal < 3 * total / 4);
  // The same seed gives the same probes.
  const Tensor theta = from_vector({1.0, -1.0}, {2, 1}, DType::f64).requires_grad_();
  AdaHessian again({theta}, AdaHessianOptions());
  for (int t = 0; t < 4; ++t) again.step([&] { return 0.5 * sum(theta * matmul(H, theta)); });
  CHECK(values(again.state()[3].second) == first_s);
  // The first-order step() has no Hessian estimate to use.
  Optimizer& base = again;
  backward(sum(theta));
  CHECK(contains(error_message([&] { base.step(); }), "call step(loss)"));
}

TEST_CASE("AdaHessian reduces an ill-conditioned 10-D quadratic to a stated tolerance") {
  const Tensor curvature = from_vector(ill_conditioned_curvature(), {10}, DType::f64);
  const Tensor theta = ones({10}, DType::f64).requires_grad_();
  const auto loss = [&] { return 0.5 * sum(curvature * theta * theta); };
  AdaHessianOptions options;
  options.lr = 0.3;
  options.hessian_power = 1.0;
  AdaHessian optimizer({theta}, options);
  const double initial = loss().item();
  for (int step = 0; step < 200; ++step) optimizer.step(loss);
  const double final = loss().item();
  MESSAGE("AdaHessian (k = 1), loss after 200 steps / initial: " << final / initial);
  CHECK(final < 1e-8 * initial);
}

namespace {

// f(θ) = ½ Σ aᵢθᵢ² + ¼ (Σ θ)⁴: a Hessian with off-diagonal terms, so AdaHessian's probes matter.
Tensor coupled_loss(const Tensor& theta) {
  const Tensor a = from_vector({1.0, 3.0, 0.5, 2.0}, {4}, DType::f64);
  return 0.5 * sum(a * theta * theta) + 0.25 * square(square(sum(theta)));
}

Tensor coupled_start() { return from_vector({1.0, -0.5, 0.25, 2.0}, {4}, DType::f64).requires_grad_(); }

// A copy of `theta` as a new leaf, for an optimizer restored from a checkpoint.
Tensor restored_leaf(const Tensor& theta) { return theta.detach().clone().requires_grad_(); }

}  // namespace

TEST_CASE("AdaHessian resumed from state() continues exactly as the uninterrupted run, probes included") {
  AdaHessianOptions options;
  options.lr = 0.05;
  options.seed = 3;
  const Tensor whole = coupled_start(), split = coupled_start();
  AdaHessian uninterrupted({whole}, options), first_half({split}, options);
  for (int t = 0; t < 3; ++t) {
    uninterrupted.step([&] { return coupled_loss(whole); });
    first_half.step([&] { return coupled_loss(split); });
  }
  const NamedTensors saved = first_half.state();
  const auto resume = [&](const NamedTensors& state) {
    const Tensor theta = restored_leaf(split);
    AdaHessian second_half({theta}, options);
    second_half.load_state(state);
    for (int t = 0; t < 3; ++t) second_half.step([&] { return coupled_loss(theta); });
    return theta;
  };
  const Tensor resumed = resume(saved);
  for (int t = 0; t < 3; ++t) uninterrupted.step([&] { return coupled_loss(whole); });
  CHECK(max_abs_diff(resumed, whole) == 0.0);
  // The probe stream's position is what makes it exact: restarting the stream changes the result.
  NamedTensors restarted = saved;
  restarted.back().second = from_indices({0}, {1});
  CHECK(max_abs_diff(resume(restarted), whole) > 1e-6);

  AdaHessian fresh({restored_leaf(split)}, options);
  NamedTensors without = saved;
  without.pop_back();
  CHECK(contains(error_message([&] { fresh.load_state(without); }), "no 'probe_offset' entry"));
  NamedTensors bad = saved;
  bad.back().second = scalar(1.0, DType::f64);
  CHECK(contains(error_message([&] { fresh.load_state(bad); }), "expected [1] i64"));
  bad.back().second = Tensor();
  CHECK(contains(error_message([&] { fresh.load_state(bad); }), "'probe_offset' is an undefined tensor"));
}

TEST_CASE("Hessian-free resumed from state() continues exactly as the uninterrupted run") {
  HessianFreeOptions options;
  options.cg_max_iterations = 3;  // short solves, so the warm start and the damping carry information
  const Tensor whole = coupled_start(), split = coupled_start();
  HessianFree uninterrupted({whole}, options), first_half({split}, options);
  for (int t = 0; t < 2; ++t) {
    uninterrupted.step([&] { return coupled_loss(whole); });
    first_half.step([&] { return coupled_loss(split); });
  }
  const NamedTensors saved = first_half.state();
  REQUIRE(saved.size() == 2);
  CHECK(saved[0].first == "damping");
  CHECK(saved[1].first == "warm_start.0");
  const auto resume = [&](const NamedTensors* state) {
    const Tensor theta = restored_leaf(split);
    HessianFree second_half({theta}, options);
    if (state) second_half.load_state(*state);
    for (int t = 0; t < 2; ++t) second_half.step([&] { return coupled_loss(theta); });
    return theta;
  };
  const Tensor resumed = resume(&saved);
  for (int t = 0; t < 2; ++t) uninterrupted.step([&] { return coupled_loss(whole); });
  CHECK(max_abs_diff(resumed, whole) == 0.0);
  CHECK(max_abs_diff(resume(nullptr), whole) > 1e-9);  // a cold restart differs

  HessianFree fresh({restored_leaf(split)}, options);
  const double damping = fresh.damping();
  CHECK(contains(error_message([&] { fresh.load_state({saved[1]}); }), "no 'damping' entry"));
  CHECK(contains(error_message([&] {
                   fresh.load_state({saved[0], {"warm_start.1", saved[1].second}});
                 }),
                 "unexpected entry 'warm_start.1'"));
  CHECK(contains(error_message([&] {
                   fresh.load_state({saved[0], {"warm_start.123456789012345678901", saved[1].second}});
                 }),
                 "unexpected entry 'warm_start.123456789012345678901'"));
  CHECK(contains(error_message([&] {
                   fresh.load_state({saved[0], {"warm_start.0", zeros({3}, DType::f64)}});
                 }),
                 "entry 'warm_start.0' is [3] f64 on cpu, parameter 0 is [4] f64 on cpu"));
  CHECK(fresh.damping() == damping);
  CHECK(fresh.state().size() == 1);
}
