// Quantum dipole with Crank–Nicolson (hig.md §2.4, acceptance Q0): unitarity, eigenstate phases, the
// ground state's zero overlap with every target, and the adjoint against finite differences.
#include <cmath>
#include <complex>

#include "solvers/schrodinger.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

Tensor real_part(const Tensor& psi) { return squeeze(slice(psi, 1, 0, 1), 1); }
Tensor imag_part(const Tensor& psi) { return squeeze(slice(psi, 1, 1, 2), 1); }

// The loss ℓ = 1 − |⟨target, ψ⟩|² per example, with ⟨a, b⟩ = Σ conj(a_j) b_j.
Tensor infidelity(const Tensor& target, const Tensor& psi) {
  const Tensor tr = real_part(target), ti = imag_part(target), pr = real_part(psi), pi = imag_part(psi);
  const Tensor re = sum(tr * pr + ti * pi, {1}), im = sum(tr * pi - ti * pr, {1});
  return 1.0 - (square(re) + square(im));
}

// A batch of random states with unit discrete norm.
Tensor random_states(std::int64_t batch, Generator& gen) {
  const Tensor psi = normal({batch, 2, 14}, 0, 1, gen, DType::f64);
  return psi / sqrt(sum(square(psi), {1, 2}, true));
}

}  // namespace

TEST_CASE("schrodinger: Crank-Nicolson conserves the norm to round-off over 384 steps") {
  Generator gen(51);
  const Tensor psi = random_states(8, gen);
  const Tensor controls = normal({8, 384}, 0, 5, gen, DType::f64);
  const Tensor trajectory = schrodinger_trajectory(psi, controls);
  REQUIRE(trajectory.shape() == Shape{8, 385, 2, 14});
  const Tensor norms = sum(square(trajectory), {2, 3});
  const double drift = max_abs(norms - 1.0);
  MESSAGE("max |‖ψ_k‖² − 1| over the trajectory " << drift);
  CHECK(drift < 1e-12);
  CHECK(max_abs_diff(slice(trajectory, 1, 0, 1), unsqueeze(psi, 1)) == 0.0);
}

TEST_CASE("schrodinger: an eigenstate gains exactly the Crank-Nicolson phase per step") {
  const SchrodingerConfig config;
  for (int level : {1, 2, 3}) {
    const double energy = 225 * std::pow(std::sin(level * M_PI / 30), 2);  // hig.md §2.4
    const double half = energy * config.dt / 2;
    const std::complex<double> factor =
        std::pow((1.0 - std::complex<double>(0, half)) / (1.0 + std::complex<double>(0, half)), 384);
    const Tensor phi = square_well_eigenstate(level);
    CHECK(sum(square(phi)).item() == doctest::Approx(1.0).epsilon(1e-15));
    const Tensor psi = schrodinger_rollout(unsqueeze(phi, 0), zeros({1, 384}, DType::f64));
    const Tensor profile = squeeze(slice(phi, 0, 0, 1), 0);
    const Tensor expected = unsqueeze(stack({factor.real() * profile, factor.imag() * profile}, 0), 0);
    const double error = max_abs_diff(psi, expected);
    MESSAGE("level " << level << ": error after 384 steps " << error);
    CHECK(error < 1e-12);
  }
}

TEST_CASE("schrodinger: without control the ground state keeps zero overlap with every target") {
  Generator gen(52);
  const Tensor ab = normal({6, 2}, 0, 1, gen, DType::f64);
  const Tensor unit = ab / sqrt(sum(square(ab), {1}, true));
  const Tensor targets = unsqueeze(slice(unit, 1, 0, 1), 2) * unsqueeze(square_well_eigenstate(2), 0) +
                         unsqueeze(slice(unit, 1, 1, 2), 2) * unsqueeze(square_well_eigenstate(3), 0);
  const Tensor ground = broadcast_to(unsqueeze(square_well_eigenstate(1), 0), {6, 2, 14});
  const Tensor loss = infidelity(targets, schrodinger_rollout(ground, zeros({6, 384}, DType::f64)));
  CHECK(max_abs(loss - 1.0) < 1e-14);
}

TEST_CASE("schrodinger: the adjoint matches finite differences in f64") {
  Generator gen(53);
  const Tensor psi = random_states(2, gen);
  const Tensor target = random_states(2, gen);
  const Tensor controls = normal({2, 96}, 0, 2, gen, DType::f64);
  // A loss on the final state plus a small linear one on every state, for the per-step cotangents (Σ|ψ|²
  // would not do: it is conserved).
  const Tensor weights = normal({2, 97, 2, 14}, 0, 0.01, gen, DType::f64);
  const Function loss = [&](const std::vector<Tensor>& v) {
    const Tensor trajectory = schrodinger_trajectory(v[0], v[1]);
    return sum(infidelity(target, squeeze(slice(trajectory, 1, -1, 97), 1))) + sum(weights * trajectory);
  };
  const std::vector<Tensor> grads = grad(loss, {psi, controls});
  for (std::size_t i = 0; i < 2; ++i) {
    // The control gradients are ~1e-2 against a loss of ~1, so a step of 1e-6 would leave round-off of
    // ~1e-9 in the differences; the loss is smooth enough for 1e-4.
    const Tensor fd = finite_difference_gradient(loss, {psi, controls}, i, 1e-4);
    const double error = max_abs_diff(grads[i], fd) / max_abs(fd);
    MESSAGE("input " << i << ": relative error " << error << " (|fd|max " << max_abs(fd) << ")");
    CHECK(error < 1e-7);
  }
}

TEST_CASE("schrodinger: a recorded first derivative works, differentiating it again is an error") {
  Generator gen(54);
  const Tensor psi = random_states(1, gen), target = random_states(1, gen);
  const Tensor controls = normal({1, 20}, 0, 2, gen, DType::f64);
  const auto loss = [&](const Tensor& u) { return sum(infidelity(target, schrodinger_rollout(psi, u))); };
  Tensor tracked = controls.clone();
  tracked.requires_grad_();
  CHECK(max_abs_diff(grad(loss, tracked), grad(loss, controls)) == 0.0);
  CHECK(contains(error_message([&] { hvp(loss, controls, ones_like(controls)); }), "first-order only"));
}

TEST_CASE("schrodinger: f32 runs, wrong shapes and dtypes are errors") {
  Generator gen(55);
  const Tensor psi = random_states(2, gen);
  const Tensor controls = normal({2, 10}, 0, 1, gen, DType::f64);
  const Tensor y32 = schrodinger_rollout(cast(psi, DType::f32), cast(controls, DType::f32));
  CHECK(y32.dtype() == DType::f32);
  CHECK(max_abs_diff(y32, schrodinger_rollout(psi, controls)) < 1e-6);
  CHECK(contains(error_message([&] {
                   schrodinger_rollout(zeros({2, 14}, DType::f64), controls);
                 }),
                 "psi must be [B, 2, 14] (Re, Im of the interior points), got [2, 14]"));
  CHECK(contains(error_message([&] {
                   schrodinger_rollout(psi, zeros({3, 10}, DType::f64));
                 }),
                 "controls must be [B, steps ≥ 1] for psi of shape [2, 2, 14], got [3, 10]"));
  CHECK(contains(error_message([&] { schrodinger_rollout(psi, cast(controls, DType::f32)); }),
                 "controls are f32 but psi is f64"));
  CHECK(contains(error_message([&] {
                   schrodinger_rollout(zeros({2, 2, 14}, DType::c128), controls);
                 }),
                 "psi must be f32 or f64"));
  CHECK(contains(error_message([] { square_well_eigenstate(15); }), "level 15 outside 1..14"));
  SchrodingerConfig bad;
  bad.points = 2;
  CHECK(contains(error_message([&] { square_well_eigenstate(1, bad); }), "invalid configuration"));
}

TEST_CASE("schrodinger refuses an infinite dt or length") {
  const Tensor psi = zeros({1, 2, 14}, DType::f64), controls = zeros({1, 3}, DType::f64);
  SchrodingerConfig config;
  config.dt = INFINITY;
  CHECK(
      contains(error_message([&] { schrodinger_rollout(psi, controls, config); }), "invalid configuration"));
  config = SchrodingerConfig{};
  config.length = INFINITY;
  CHECK(
      contains(error_message([&] { schrodinger_rollout(psi, controls, config); }), "invalid configuration"));
}
