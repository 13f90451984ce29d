// Coupled nonlinear oscillators with RK4 (hig.md §2.2): exact linear solution, energy error of order dt⁴,
// the spec's sanity values, and the hand-written adjoint against the taped steps and finite differences.
#include <cmath>

#include "solvers/oscillators.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

OscillatorConfig with_dt(double dt, double coupling = 1.0) {
  OscillatorConfig config;
  config.dt = dt;
  config.coupling = coupling;
  return config;
}

// The uncontrolled rollout over T = 12 at step dt.
Tensor free_rollout(const Tensor& s0, double dt, double coupling = 1.0) {
  const std::int64_t steps = std::lround(12.0 / dt);
  return oscillator_rollout(s0, zeros({s0.shape()[0], steps}, s0.dtype()), with_dt(dt, coupling));
}

Tensor taped_rollout(const Tensor& s0, const Tensor& controls, const OscillatorConfig& config) {
  Tensor s = s0;
  for (std::int64_t k = 0; k < controls.shape()[1]; ++k)
    s = oscillator_step(s, squeeze(slice(controls, 1, k, k + 1), 1), config);
  return s;
}

}  // namespace

TEST_CASE("oscillators: without coupling RK4 follows the exact rotation") {
  Generator gen(41);
  const Tensor s0 = uniform({16, 4}, 0, 1, gen, DType::f64);
  const Tensor x = slice(s0, 1, 0, 2), p = slice(s0, 1, 2, 4);
  const double t = 12.0;
  const Tensor exact = concat({x * std::cos(t) + p * std::sin(t), p * std::cos(t) - x * std::sin(t)}, 1);
  const double error = max_abs_diff(free_rollout(s0, 0.125, 0.0), exact);
  MESSAGE("96 steps of dt = 0.125: max error " << error);
  CHECK(error < 4e-5);  // hig.md §2.2: ≈ 2e-5 (there for one draw of states)
}

TEST_CASE("oscillators: the energy drift of RK4 falls like dt^5 on the conservative system") {
  Generator gen(42);
  const Tensor s0 = uniform({64, 4}, 0, 1, gen, DType::f64);
  const Tensor h0 = oscillator_energy(s0);
  std::vector<double> drift;
  for (double dt : {0.125, 0.0625, 0.03125})
    drift.push_back(max_abs((oscillator_energy(free_rollout(s0, dt)) - h0) / h0));
  MESSAGE("max relative energy drift over T = 12: " << drift[0] << ", " << drift[1] << ", " << drift[2]);
  CHECK(drift[0] < 3e-4);  // hig.md §2.2: ≤ ≈ 3e-4 at dt = 0.125
  // The global error of RK4 is O(dt⁴), but its energy error is one order smaller: on the linear oscillator
  // |R(ih)|² = 1 − h⁶/72 + O(h⁸) per step, so the secular drift over a fixed T is O(dt⁵), and the leading
  // nonlinear terms behave the same way here.
  CHECK(std::log2(drift[0] / drift[1]) == doctest::Approx(5.0).epsilon(0.1));
  CHECK(std::log2(drift[1] / drift[2]) == doctest::Approx(5.0).epsilon(0.1));
}

TEST_CASE("oscillators: with u = 0 the return-to-start loss averages about 0.80 over U[0,1) states") {
  Generator gen(43);
  const Tensor s0 = uniform({4096, 4}, 0, 1, gen, DType::f64);
  const double loss = mean(sum(square(free_rollout(s0, 0.125) - s0), {1})).item();
  MESSAGE("mean loss " << loss);
  CHECK(loss == doctest::Approx(0.80).epsilon(0.03));  // hig.md §2.2 sanity value
}

TEST_CASE("oscillators: the trajectory op agrees with the taped RK4 steps, values and gradients") {
  Generator gen(44);
  const OscillatorConfig config;
  const Tensor s0 = uniform({8, 4}, 0, 1, gen, DType::f64);
  const Tensor controls = normal({8, 96}, 0, 0.3, gen, DType::f64);
  const Tensor trajectory = oscillator_trajectory(s0, controls, config);
  REQUIRE(trajectory.shape() == Shape{8, 97, 4});
  CHECK(max_abs_diff(slice(trajectory, 1, 0, 1), unsqueeze(s0, 1)) == 0.0);
  CHECK(max_abs_diff(oscillator_rollout(s0, controls, config), taped_rollout(s0, controls, config)) < 1e-13);
  // A loss on every state exercises the per-step cotangents of the trajectory.
  const Tensor weights = normal({8, 97, 4}, 0, 1, gen, DType::f64);
  const Function fast = [&](const std::vector<Tensor>& v) {
    return sum(weights * oscillator_trajectory(v[0], v[1], config)) +
           sum(square(oscillator_rollout(v[0], v[1], config) - v[0]));
  };
  const Function taped = [&](const std::vector<Tensor>& v) {
    Tensor s = v[0], total = scalar(0.0, DType::f64);
    for (std::int64_t k = 0; k <= 96; ++k) {
      total = total + sum(squeeze(slice(weights, 1, k, k + 1), 1) * s);
      if (k < 96) s = oscillator_step(s, squeeze(slice(v[1], 1, k, k + 1), 1), config);
    }
    return total + sum(square(s - v[0]));
  };
  const std::vector<Tensor> g_fast = grad(fast, {s0, controls}), g_taped = grad(taped, {s0, controls});
  const double state_error = max_abs_diff(g_fast[0], g_taped[0]) / max_abs(g_taped[0]);
  const double control_error = max_abs_diff(g_fast[1], g_taped[1]) / max_abs(g_taped[1]);
  MESSAGE("adjoint vs taped: state " << state_error << ", controls " << control_error);
  CHECK(state_error < 1e-12);
  CHECK(control_error < 1e-12);
}

TEST_CASE("oscillators: gradient of a short rollout matches finite differences in f64") {
  Generator gen(45);
  const Tensor s0 = uniform({3, 4}, 0, 1, gen, DType::f64);
  const Tensor controls = normal({3, 12}, 0, 0.5, gen, DType::f64);
  const Tensor target = uniform({3, 4}, 0, 1, gen, DType::f64);
  const Function loss = [&](const std::vector<Tensor>& v) {
    return sum(square(oscillator_rollout(v[0], v[1]) - target));
  };
  const std::vector<Tensor> grads = grad(loss, {s0, controls});
  for (std::size_t i = 0; i < 2; ++i) {
    const Tensor fd = finite_difference_gradient(loss, {s0, controls}, i);
    const double error = max_abs_diff(grads[i], fd) / max_abs(fd);
    MESSAGE("input " << i << ": relative error " << error);
    CHECK(error < 1e-7);
  }
}

TEST_CASE("oscillators: recorded derivatives (jvp, hvp) go through the taped steps") {
  Generator gen(46);
  const OscillatorConfig config;
  const Tensor s0 = uniform({2, 4}, 0, 1, gen, DType::f64);
  const Tensor controls = normal({2, 10}, 0, 0.5, gen, DType::f64);
  const Tensor tangent = normal({2, 10}, 0, 1, gen, DType::f64);
  const auto fast = [&](const std::vector<Tensor>& v) { return oscillator_rollout(s0, v[0], config); };
  const auto taped = [&](const std::vector<Tensor>& v) { return taped_rollout(s0, v[0], config); };
  const Tensor jf = jvp(fast, {controls}, {tangent}).second, jt = jvp(taped, {controls}, {tangent}).second;
  CHECK(max_abs(jt) > 0.0);
  CHECK(max_abs_diff(jf, jt) < 1e-12 * max_abs(jt));
  const auto energy = [&](const Tensor& u) {
    return sum(oscillator_energy(oscillator_rollout(s0, u, config)));
  };
  const auto energy_taped = [&](const Tensor& u) {
    return sum(oscillator_energy(taped_rollout(s0, u, config)));
  };
  const Tensor hf = hvp(energy, controls, tangent), ht = hvp(energy_taped, controls, tangent);
  CHECK(max_abs_diff(hf, ht) < 1e-12 * max_abs(ht));
}

TEST_CASE("oscillators: f32 tensors run the f64 rollout") {
  Generator gen(47);
  const Tensor s0 = uniform({4, 4}, 0, 1, gen, DType::f64);
  const Tensor controls = normal({4, 96}, 0, 0.3, gen, DType::f64);
  const Tensor y32 = oscillator_rollout(cast(s0, DType::f32), cast(controls, DType::f32));
  CHECK(y32.dtype() == DType::f32);
  CHECK(max_abs_diff(y32, oscillator_rollout(s0, controls)) < 1e-5);
  const Tensor g = grad(
      [](const Tensor& u) {
        return sum(oscillator_rollout(ones({1, 4}, DType::f32), u));
      },
      zeros({1, 96}, DType::f32));
  CHECK(g.dtype() == DType::f32);
}

TEST_CASE("oscillators: a longer chain and its energy") {
  OscillatorConfig chain;
  chain.control_weights = {0, 0, 0, 1, 0};
  Generator gen(48);
  const Tensor s0 = uniform({4, 10}, -1, 1, gen, DType::f64);
  chain.dt = 0.01;
  const Tensor s1 = oscillator_rollout(s0, zeros({4, 200}, DType::f64), chain);
  CHECK(max_abs_diff(oscillator_energy(s1, chain), oscillator_energy(s0, chain)) < 1e-9);
}

TEST_CASE("oscillators: wrong shapes and dtypes are errors") {
  const Tensor s = zeros({2, 4}, DType::f64), u = zeros({2, 5}, DType::f64);
  CHECK(contains(error_message([&] {
                   oscillator_rollout(zeros({2, 3}, DType::f64), u);
                 }),
                 "state must be [B, 4] (x_1..x_2, p_1..p_2), got [2, 3]"));
  CHECK(contains(error_message([&] {
                   oscillator_rollout(s, zeros({3, 5}, DType::f64));
                 }),
                 "controls must be [B, steps ≥ 1] for a state of shape [2, 4], got [3, 5]"));
  CHECK(contains(error_message([&] { oscillator_rollout(s, zeros({2}, DType::f64)); }), "controls must be"));
  CHECK(contains(error_message([&] { oscillator_rollout(s, cast(u, DType::f32)); }),
                 "controls are f32 but the state is f64"));
  CHECK(contains(error_message([&] { oscillator_step(s, u); }), "oscillator_rate: controls must be [B]"));
  OscillatorConfig none;
  none.control_weights.clear();
  CHECK(contains(error_message([&] { oscillator_energy(s, none); }), "invalid configuration"));
}

TEST_CASE("oscillators refuse an infinite dt and NaN couplings or weights") {
  const Tensor s = zeros({2, 4}, DType::f64), u = zeros({2, 5}, DType::f64);
  OscillatorConfig config;
  config.dt = INFINITY;
  CHECK(contains(error_message([&] { oscillator_rollout(s, u, config); }), "invalid configuration"));
  config = OscillatorConfig{};
  config.coupling = NAN;
  CHECK(contains(error_message([&] { oscillator_rollout(s, u, config); }), "invalid configuration"));
  config = OscillatorConfig{};
  config.control_weights = {0.0, NAN};
  CHECK(contains(error_message([&] { oscillator_rollout(s, u, config); }), "invalid configuration"));
}
