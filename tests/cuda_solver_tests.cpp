// The solvers of the JPO and HIG experiments on the device against the CPU, values and gradients, f64 and
// f32: billiards, wave packet, robot arm, Kuramoto–Sivashinsky and the spectral operators, the oscillator
// chain's fused RK4 and the dipole's Crank–Nicolson (one device thread per example). The fluid solver's
// cases are in cuda_tests.cpp. Every case skips without a device.
#include "cuda_test_util.h"
#include "solvers/billiards.h"
#include "solvers/heat.h"
#include "solvers/heat_sources.h"
#include "solvers/kuramoto_sivashinsky.h"
#include "solvers/oscillators.h"
#include "solvers/robot_arm.h"
#include "solvers/schrodinger.h"
#include "solvers/spectral.h"
#include "solvers/wave_packet.h"

using namespace dphys;
using namespace dphys::cuda_test;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

// Rollouts repeat a step many times, so round-off differences between the devices (another FFT, fused
// multiply-adds on a GPU) grow a little beyond a single op's.
double rollout_tolerance(DType dtype) { return dtype == DType::f32 ? 1e-5 : 1e-11; }

}  // namespace

TEST_CASE("billiards collisions and rest positions agree between the devices, hits and misses") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(dtype_name(dtype));
    // Cue balls at x = 0 shot right at second balls at x = 1 on a spread of heights: some hit, some miss.
    const Tensor pa = from_vector({0, 0.5, 0, 0.5, 0, 0.5, 0.1, 0.4, 0, 0.5, 0, 0.5}, {6, 2}, dtype);
    const Tensor va =
        from_vector({1.0, 0.1, 2.0, -0.3, 1.5, 0.4, 3.0, 0.2, 1.0, 2.0, -1.0, 0.0}, {6, 2}, dtype);
    const Tensor pb = from_vector({1, 0.6, 1, 0.3, 1, 0.8, 1, 0.45, 1, 0.5, 1, 0.5}, {6, 2}, dtype);
    const Tensor vb = from_vector({0, 0, 0, 0, -0.2, 0.1, 0.3, 0, 0, 0, 0, 0}, {6, 2}, dtype);
    const double hits = sum(billiards_collision(pa, va, pb, vb).hit).item();
    CHECK(hits >= 1);
    CHECK(hits <= 5);
    check_op([](const std::vector<Tensor>& v) { return billiards_collision(v[0], v[1], v[2], v[3]).hit; },
             {pa, va, pb, vb}, 0.0);
    check_op_and_gradients(
        [](const std::vector<Tensor>& v) {
          const BilliardsRest rest = billiards_rest_positions(v[0], v[1], v[2], v[3]);
          return concat({rest.position_a, rest.position_b}, 1);
        },
        {pa, va, pb, vb}, tolerance(dtype) * 10);
  }
}

TEST_CASE("the wave packet and the robot arm agree between the devices") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(dtype_name(dtype));
    check_op_and_gradients([](const std::vector<Tensor>& v) { return wave_packet(v[0]); },
                           {random_tensor({5}, dtype, 1, 0.0, 200.0)}, tolerance(dtype) * 100);
    check_op_and_gradients([](const std::vector<Tensor>& v) { return robot_arm(v[0]); },
                           {random_tensor({7, 4}, dtype, 2)}, tolerance(dtype) * 10);
  }
}

TEST_CASE("Kuramoto-Sivashinsky rollouts and spectral operators agree between the devices") {
  if (!cuda_device_present()) return;
  const KuramotoSivashinsky on_cpu, on_device({}, gpu);
  const Tensor u0 = 0.35 * random_tensor({3, 128}, DType::f64, 3);
  const Tensor alpha = from_vector({1.1, 0.8, 1.0}, {3}, DType::f64),
               beta = from_vector({0.9, 1.2, 1.0}, {3}, DType::f64);
  const std::vector<Tensor> inputs{u0, alpha, beta};
  std::vector<Tensor> moved;
  for (const Tensor& x : inputs) moved.push_back(x.to(gpu));
  const Function rollout_cpu = [&](const std::vector<Tensor>& v) {
    return on_cpu.rollout(v[0], v[1], v[2], 20);
  };
  const Function rollout_device = [&](const std::vector<Tensor>& v) {
    return on_device.rollout(v[0], v[1], v[2], 20);
  };
  check_agrees(rollout_device(moved), rollout_cpu(inputs), rollout_tolerance(DType::f64));
  const Function loss_cpu = [&](const std::vector<Tensor>& v) { return sum(square(rollout_cpu(v))); };
  const Function loss_device = [&](const std::vector<Tensor>& v) { return sum(square(rollout_device(v))); };
  const std::vector<Tensor> cpu_grads = grad(loss_cpu, inputs), device_grads = grad(loss_device, moved);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    check_agrees(device_grads[i], cpu_grads[i], rollout_tolerance(DType::f64));
  }
  check_agrees(on_device.step_etdrk4(moved[0], moved[1], moved[2]), on_cpu.step_etdrk4(u0, alpha, beta),
               1e-13);
  // The solver's tables live on one device; a state on the other is refused, naming both.
  const std::string message = error_message([&] { on_device.rollout(u0, alpha, beta, 1); });
  CHECK(contains(message, "cpu"));
  CHECK(contains(message, "cuda:0"));

  check_op_and_gradients([](const std::vector<Tensor>& v) { return spectral_derivative(v[0], 7.0); },
                         {random_tensor({2, 33}, DType::f64, 4)}, 1e-13);
  check_op_and_gradients([](const std::vector<Tensor>& v) { return spectral_poisson_2d(v[0], 2.0, 3.0); },
                         {random_tensor({2, 12, 10}, DType::f64, 5)}, 1e-13);
}

TEST_CASE("the oscillator chain's fused RK4 and its adjoint agree between the devices") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(dtype_name(dtype));
    OscillatorConfig config;
    config.control_weights = {0.0, 3.0, -1.0};  // three oscillators: every bond term is exercised
    const Tensor state = random_tensor({5, 6}, dtype, 6, -1.0, 1.0);
    const Tensor controls = random_tensor({5, 40}, dtype, 7, -0.5, 0.5);
    check_op_and_gradients(
        [&](const std::vector<Tensor>& v) { return oscillator_trajectory(v[0], v[1], config); },
        {state, controls}, rollout_tolerance(dtype));
    // The taped step, which the fused op differentiates for higher derivatives, runs there too.
    check_op_and_gradients(
        [&](const std::vector<Tensor>& v) {
          return oscillator_step(v[0], squeeze(slice(v[1], 1, 0, 1), 1), config);
        },
        {state, controls}, tolerance(dtype) * 10);
  }
  // Controls on another device than the state are refused before any kernel runs.
  const Tensor state = random_tensor({1, 4}, DType::f64, 8).to(gpu);
  CHECK(contains(error_message([&] { oscillator_trajectory(state, zeros({1, 3}, DType::f64)); }), "cuda:0"));
}

TEST_CASE("the dipole's Crank-Nicolson rollout and its adjoint agree between the devices") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(dtype_name(dtype));
    const Tensor psi = random_tensor({4, 2, 14}, dtype, 9, -1.0, 1.0);
    const Tensor controls = random_tensor({4, 96}, dtype, 10, -2.0, 2.0);
    check_op_and_gradients([](const std::vector<Tensor>& v) { return schrodinger_trajectory(v[0], v[1]); },
                           {psi, controls}, rollout_tolerance(dtype));
    // Crank-Nicolson is unitary on the device too: the norm of every example stays put.
    const Tensor final_state = schrodinger_rollout(psi.to(gpu), controls.to(gpu));
    const Tensor norms = sum(square(cast(final_state, DType::f64)), {1, 2});
    check_agrees(norms, sum(square(cast(psi, DType::f64)), {1, 2}), rollout_tolerance(dtype));
  }
}

TEST_CASE("random draws and the SIP heat sources made on the device are the host's") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f32, DType::f64}) {
    Generator on_cpu(13), on_device(13);
    check_agrees(uniform({5, 7}, -2.0, 3.0, on_device, dtype, gpu), uniform({5, 7}, -2.0, 3.0, on_cpu, dtype),
                 1e-15);
    check_agrees(normal({5, 7}, 1.0, 2.0, on_device, dtype, gpu), normal({5, 7}, 1.0, 2.0, on_cpu, dtype),
                 tolerance(dtype));
  }
  Generator on_cpu(14), on_device(14);
  check_agrees(sip_heat_sources(3, 32, on_device, gpu), sip_heat_sources(3, 32, on_cpu), 1e-14);
  // Both generators advanced alike.
  check_agrees(uniform({2}, 0.0, 1.0, on_device, DType::f64, gpu), uniform({2}, 0.0, 1.0, on_cpu, DType::f64),
               0.0);
}

TEST_CASE("the SIP damped heat inverse makes the same per-bin decisions on the device") {
  if (!cuda_device_present()) return;
  // Diffused fields plus a little noise: some bins are inverted, some diffused, some left alone.
  Generator gen(11);
  for (const double scale : {1e-3, 1.0, 100.0}) {
    CAPTURE(scale);
    const Tensor residual = heat_exact_2d(normal({3, 32, 32}, 0, scale, gen, DType::f64), 1.0, 4.0, 32, 32) +
                            normal({3, 32, 32}, 0, scale * 1e-4, gen, DType::f64);
    check_op([](const std::vector<Tensor>& v) { return heat_damped_inverse(v[0], 8.0, 32, 32); }, {residual},
             1e-12);
  }
  // A zero residual (σ_n = 0) stays zero on both.
  check_op([](const std::vector<Tensor>& v) { return heat_damped_inverse(v[0], 8.0, 16, 16); },
           {zeros({2, 16, 16}, DType::f32)}, 0.0);
}
