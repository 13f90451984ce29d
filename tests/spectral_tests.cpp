// FFTs, spectral operators, heat and Kuramoto–Sivashinsky: analytic solutions, adjoints, convergence order,
// gradients.
#include <cmath>

#include "autodiff/fourier_ops.h"
#include "engine/fft.h"
#include "solvers/grid.h"
#include "solvers/heat.h"
#include "solvers/heat_sources.h"
#include "solvers/kuramoto_sivashinsky.h"
#include "solvers/spectral.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

double inner(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }

Tensor grid_x(std::int64_t n, double length) {
  return arange(0, static_cast<double>(n), 1, DType::f64) * (length / n);
}

}  // namespace

TEST_CASE("rfft puts a cosine in its bin and irfft inverts it") {
  const Tensor x = cos(grid_x(16, 2 * M_PI) * 3.0);
  const Tensor s = kernel::rfft(x);
  REQUIRE(s.shape() == Shape{9});
  const c128* p = s.data<c128>();
  for (int j = 0; j < 9; ++j) CHECK(std::abs(p[j] - c128(j == 3 ? 8.0 : 0.0, 0.0)) < 1e-12);
  CHECK(max_abs_diff(kernel::irfft(s, 16), x) < 1e-14);
  Generator gen(1);
  const Tensor image = normal({2, 6, 10}, 0, 1, gen, DType::f64);
  CHECK(max_abs_diff(kernel::irfft2(kernel::rfft2(image), 10), image) < 1e-13);
  const Tensor odd = normal({3, 7}, 0, 1, gen, DType::f64);
  CHECK(max_abs_diff(kernel::irfft(kernel::rfft(odd), 7), odd) < 1e-13);
}

TEST_CASE("transforms of length 1 are the identity, and solvers on grids with an axis of length 1 run") {
  // Eigen's kissfft crashed (SIGSEGV) on length 1, taking spectral Poisson and heat on [B, 1, n] with it.
  const Tensor x = from_vector({2.5, -1.0}, {2, 1}, DType::f64);
  const Tensor s = kernel::rfft(x);
  CHECK(s.shape() == Shape{2, 1});
  CHECK(max_abs_diff(kernel::irfft(s, 1), x) == 0.0);
  Generator gen(3);
  for (const Shape& shape : {Shape{1, 1, 4}, Shape{1, 4, 1}, Shape{2, 1, 1}}) {
    CAPTURE(shape_str(shape));
    const Tensor image = normal(shape, 0, 1, gen, DType::f64);
    CHECK(max_abs_diff(kernel::irfft2(kernel::rfft2(image), shape[2]), image) < 1e-15);
    // Heat keeps the mean (the only mode of an axis of length 1) and diffuses the rest.
    const Tensor u = heat_exact_2d(image, 0.1, 1.0, 1.0, 1.0);
    CHECK(max_abs_diff(mean(u, {1, 2}), mean(image, {1, 2})) < 1e-14);
  }
}

TEST_CASE("fourier_filter satisfies the adjoint identity <T x, y> = <x, T* y> in 1-D and 2-D") {
  Generator gen(2);
  const Tensor x1 = normal({3, 32}, 0, 1, gen, DType::f64), y1 = normal({3, 32}, 0, 1, gen, DType::f64);
  // A derivative-like multiplier i·k (Nyquist zeroed) plus damping: complex, Hermitian symmetric.
  Tensor m1 = zeros({17}, DType::c128);
  for (int j = 0; j < 17; ++j) m1.data<c128>()[j] = c128(std::exp(-0.01 * j * j), j == 16 ? 0.0 : 0.3 * j);
  const Tensor t_x = fourier_filter(x1, m1, 1);
  const auto [value, adjoint] =
      vjp([&](const std::vector<Tensor>& v) { return fourier_filter(v[0], m1, 1); }, {x1}, y1);
  CHECK(inner(t_x, y1) == doctest::Approx(inner(x1, adjoint[0])).epsilon(1e-12));
  const Tensor x2 = normal({2, 8, 12}, 0, 1, gen, DType::f64), y2 = normal({2, 8, 12}, 0, 1, gen, DType::f64);
  const Tensor m2 = exp(-0.1 * wavenumber_squared_2d(8, 12, 8, 12));
  const auto [value2, adjoint2] =
      vjp([&](const std::vector<Tensor>& v) { return fourier_filter(v[0], m2, 2); }, {x2}, y2);
  CHECK(inner(fourier_filter(x2, m2, 2), y2) == doctest::Approx(inner(x2, adjoint2[0])).epsilon(1e-12));
}

TEST_CASE("fourier_filter: overwriting a real multiplier after the forward pass is caught in backward") {
  // The multiplier was kept without version tracking: fill_(2) after the forward pass gave the gradient
  // [2, 0, 0, 0] instead of [1, 0, 0, 0], silently.
  const Tensor x = from_vector({1.0, 0.0, 0.0, 0.0}, {4}, DType::f64).requires_grad_();
  Tensor multiplier = full({3}, 1.0, DType::f64);
  const Tensor y = sum(fourier_filter(x, multiplier, 1) * from_vector({1.0, 0.0, 0.0, 0.0}, {4}, DType::f64));
  multiplier.fill_(2.0);
  CHECK(contains(error_message([&] { backward(y); }), "saved for backward was modified in place"));
}

TEST_CASE("heat and Kuramoto-Sivashinsky refuse infinite or NaN parameters") {
  // nu·t = ∞ made the k = 0 mode 0·∞ = NaN and the whole field NaN; KS with dt = ∞ returned NaN.
  const Tensor u = ones({1, 4, 4}, DType::f64);
  CHECK(contains(error_message([&] { heat_exact_2d(u, 1.0, INFINITY, 1.0, 1.0); }), "need finite nu"));
  CHECK(contains(error_message([&] {
                   heat_exact_1d(ones({1, 4}, DType::f64), INFINITY, 1.0, 1.0);
                 }),
                 "need finite nu"));
  CHECK(
      contains(error_message([&] { heat_damped_inverse(u, NAN, 1.0, 1.0, 0.1, 1.0); }), "need finite nu_t"));
  CHECK(
      contains(error_message([&] { heat_damped_inverse(u, -1.0, 1.0, 1.0, 0.1, 1.0); }), "need finite nu_t"));
  KuramotoSivashinskyConfig config;
  config.dt = INFINITY;
  CHECK(contains(error_message([&] { KuramotoSivashinsky ks(config); }), "invalid configuration"));
}

TEST_CASE("spectral derivative is exact for resolved modes and antisymmetric") {
  const double length = 10.0;
  const Tensor x = grid_x(64, length);
  const double k = 2 * M_PI * 5 / length;
  CHECK(max_abs_diff(spectral_derivative(sin(x * k), length), k * cos(x * k)) < 1e-12);
  Generator gen(3);
  const Tensor a = normal({64}, 0, 1, gen, DType::f64), b = normal({64}, 0, 1, gen, DType::f64);
  CHECK(inner(spectral_derivative(a, length), b) ==
        doctest::Approx(-inner(a, spectral_derivative(b, length))).epsilon(1e-12));
}

TEST_CASE("spectral Poisson solves an analytic problem to round-off") {
  const std::int64_t ny = 32, nx = 48;
  const double ly = 2.0, lx = 3.0;
  const Tensor y = reshape(grid_x(ny, ly), {ny, 1}), x = reshape(grid_x(nx, lx), {1, nx});
  const double a = 2 * M_PI * 2 / lx, b = 2 * M_PI * 3 / ly;
  const Tensor phi = sin(x * a) * cos(y * b);  // zero mean
  const Tensor f = -(a * a + b * b) * phi;
  CHECK(max_abs_diff(spectral_poisson_2d(unsqueeze(f, 0), ly, lx), unsqueeze(phi, 0)) < 1e-12);
  // A constant in f is ignored and the solution keeps zero mean.
  CHECK(max_abs_diff(spectral_poisson_2d(f + 5.0, ly, lx), phi) < 1e-12);
}

TEST_CASE("heat: sine modes decay at the analytic rate exp(-nu k^2 t)") {
  const std::int64_t n = 64;
  const Tensor y = reshape(grid_x(n, 64), {n, 1}), x = reshape(grid_x(n, 64), {1, n});
  const double kx = 2 * M_PI * 3 / 64, ky = 2 * M_PI * 2 / 64, nu = 0.7, t = 8.0;
  const Tensor u = sin(x * kx) * sin(y * ky) + 2.0;
  const Tensor expected = std::exp(-nu * (kx * kx + ky * ky) * t) * sin(x * kx) * sin(y * ky) + 2.0;
  CHECK(max_abs_diff(heat_exact_2d(u, nu, t, 64, 64), expected) < 1e-13);
  const Tensor line = sin(grid_x(n, 5.0) * (2 * M_PI * 4 / 5.0));
  CHECK(max_abs_diff(heat_exact_1d(line, nu, t, 5.0),
                     std::exp(-nu * std::pow(2 * M_PI * 4 / 5.0, 2) * t) * line) < 1e-13);
}

TEST_CASE("Kuramoto-Sivashinsky conserves the mean") {
  const KuramotoSivashinsky ks;
  Generator gen(4);
  const Tensor u0 = 0.35 * normal({2, 128}, 0, 1, gen, DType::f64) + 0.1;
  const Tensor u =
      ks.rollout(u0, from_vector({1.0, 0.7}, {2}, DType::f64), from_vector({1.0, 1.3}, {2}, DType::f64), 100);
  // G has zero mean and ∂x(u²) has zero mean, so the mean is an invariant (jpo.md §8.2).
  CHECK(max_abs_diff(mean(u, {1}), mean(u0, {1})) < 1e-12);
  CHECK(max_abs(u) < 10.0);
}

TEST_CASE("Kuramoto-Sivashinsky: ETD-RK2 converges at second order to an ETD-RK4 fine-step reference") {
  const double t_end = 2.0;
  const Tensor x = grid_x(128, 32 * M_PI);
  const Tensor u0 = unsqueeze(0.5 * cos(x / 16.0) * (1.0 + sin(x / 16.0)), 0);
  const Tensor alpha = scalar(1.0, DType::f64), beta = scalar(1.0, DType::f64);
  const auto solve = [&](double dt, bool fourth) {
    KuramotoSivashinskyConfig config;
    config.dt = dt;
    const KuramotoSivashinsky ks(config);
    Tensor u = u0;
    const int steps = static_cast<int>(std::lround(t_end / dt));
    for (int s = 0; s < steps; ++s)
      u = fourth ? ks.step_etdrk4(u, alpha, beta) : ks.step_etdrk2(u, alpha, beta);
    return u;
  };
  const Tensor reference = solve(0.25 / 64, true);
  const double e1 = max_abs_diff(solve(0.25, false), reference);
  const double e2 = max_abs_diff(solve(0.125, false), reference);
  const double e3 = max_abs_diff(solve(0.0625, false), reference);
  INFO("errors " << e1 << " " << e2 << " " << e3);
  CHECK(std::log2(e1 / e2) == doctest::Approx(2.0).epsilon(0.15));
  CHECK(std::log2(e2 / e3) == doctest::Approx(2.0).epsilon(0.15));
  // ETD-RK4 itself converges at fourth order.
  const double r1 = max_abs_diff(solve(0.25, true), reference),
               r2 = max_abs_diff(solve(0.125, true), reference);
  CHECK(std::log2(r1 / r2) > 3.5);
}

TEST_CASE("Kuramoto-Sivashinsky rollout gradients match finite differences in f64") {
  const KuramotoSivashinsky ks;
  Generator gen(5);
  const Tensor u0 = 0.35 * normal({2, 128}, 0, 1, gen, DType::f64);
  const Tensor alpha = from_vector({1.1, 0.8}, {2}, DType::f64),
               beta = from_vector({0.9, 1.2}, {2}, DType::f64);
  const Tensor target = normal({2, 128}, 0, 0.5, gen, DType::f64);
  const Function loss = [&](const std::vector<Tensor>& v) {
    return sum(square(ks.rollout(v[0], v[1], v[2], 20) - target));
  };
  const std::vector<Tensor> inputs{u0, alpha, beta};
  const std::vector<Tensor> grads = grad(loss, inputs);
  for (std::size_t i = 1; i < 3; ++i) {
    const Tensor fd = finite_difference_gradient(loss, inputs, i);
    CHECK(max_abs_diff(grads[i], fd) < 1e-6 * (1 + max_abs(fd)));
  }
  // u0: compare along a random direction (128 × 2 finite differences would be slow).
  const Tensor v = normal({2, 128}, 0, 1, gen, DType::f64);
  const double eps = 1e-6;
  const double fd =
      (loss({u0 + eps * v, alpha, beta}).item() - loss({u0 - eps * v, alpha, beta}).item()) / (2 * eps);
  CHECK(sum(grads[0] * v).item() == doctest::Approx(fd).epsilon(1e-6));
}

TEST_CASE("implicit heat step damps a Fourier mode by 1 / (1 + nu dt lambda) of the discrete Laplacian") {
  Grid2D grid;
  grid.ny = 16;
  grid.nx = 32;
  grid.length_y = 1.0;
  grid.length_x = 2.0;
  const double kx = 2 * M_PI * 3 / grid.length_x, nu = 0.3, dt = 0.05;
  const Tensor u = unsqueeze(sin(grid.cell_x() * kx) * ones({16, 1}, DType::f64), 0);
  const double lambda = 4 / (grid.dx() * grid.dx()) * std::pow(std::sin(kx * grid.dx() / 2), 2);
  CgOptions options;
  options.rel_tol = 1e-13;
  CHECK(max_abs_diff(heat_implicit_step(u, nu, dt, grid, options), u / (1 + nu * dt * lambda)) < 1e-12);
}

TEST_CASE("SIP damped heat inverse: inverts resolvable detail, diffuses noise instead of amplifying it") {
  const std::int64_t n = 64;
  Grid2D grid;
  grid.ny = grid.nx = n;
  grid.length_y = grid.length_x = 64;
  // Smooth detail: the diffused residual is far above the noise floor, so it is fully inverted.
  const Tensor delta =
      unsqueeze(sin(grid.cell_x() * (2 * M_PI * 6 / 64)) * cos(grid.cell_y() * (2 * M_PI * 4 / 64)), 0);
  const Tensor residual = heat_exact_2d(delta, 1.0, 8.0, 64, 64);
  CHECK(max_abs(residual) < 0.05);  // diffusion removed most of it
  CHECK(max_abs_diff(heat_damped_inverse(residual, 8.0, 64, 64), delta) < 1e-9);
  // A high-frequency component far below what diffusion would leave is treated as noise: its gain is
  // e^{-ℓ}, so the update never exceeds the residual there (the naive inverse would multiply it by e^{+ℓ}).
  const Tensor wiggle =
      1e-3 * unsqueeze(cos(grid.cell_x() * (2 * M_PI * 20 / 64)), 0) * ones({n, 1}, DType::f64);
  const Tensor update = heat_damped_inverse(wiggle, 8.0, 64, 64);
  CHECK(max_abs(update) <= max_abs(wiggle));
}

TEST_CASE("SIP heat sources: each box adds its strength times its area, inside the domain") {
  const std::int64_t batch = 6, n = 64;
  Generator gen(12), replay(12);
  const Tensor x = sip_heat_sources(batch, n, gen);
  REQUIRE(x.shape() == Shape{batch, n, n});
  CHECK(min(x).item() >= 0.0);
  // The same draws, read independently: 4–10 active candidates, each a box of half-sizes 10·U moved inside
  // the domain, so the field's total is Σ strength · (2 half_y) · (2 half_x) per example.
  const std::vector<double> draws = uniform({batch, 51}, 0.0, 1.0, replay, DType::f64).to_vector<double>();
  const std::vector<double> totals = sum(x, {1, 2}).to_vector<double>();
  for (std::int64_t b = 0; b < batch; ++b) {
    const double* r = &draws[b * 51];
    const int active = static_cast<int>(std::floor(4 + 7 * r[0]));
    double expected = 0.0;
    for (int j = 0; j < active; ++j) expected += r[5 + 5 * j] * (20 * r[3 + 5 * j]) * (20 * r[4 + 5 * j]);
    CHECK(totals[b] == doctest::Approx(expected).epsilon(1e-12));
  }
  // The generator advanced by exactly the draws: the next batch differs.
  CHECK(max_abs_diff(sip_heat_sources(batch, n, gen), x) > 0.1);
  CHECK(contains(error_message([&] { sip_heat_sources(2, 16, gen); }), "n >= 20"));
}
