// The optimizers with problems on the device against the same problems on the CPU: batched BFGS and L-BFGS
// (per-problem bookkeeping on the host, iterates, directions and memories on the device), Newton, saddle-free
// Newton and Gauss-Newton steps, Hessian-free and AdaHessian, the percentile clip and the JPO trainer. HIG
// and SIP on the device are in cuda_tests.cpp and sip_heat_app_tests.cpp. Every case skips without a device.
#include <memory>
#include <type_traits>
#include "cuda_test_util.h"

#include "nn/layers.h"
#include "optim/adahessian.h"
#include "optim/adam.h"
#include "optim/bfgs.h"
#include "optim/clip.h"
#include "optim/gauss_newton.h"
#include "optim/hessian_free.h"
#include "optim/jpo.h"
#include "optim/newton.h"

using namespace dphys;
using namespace dphys::cuda_test;
using namespace dphys::optim;

namespace {

// Shifted, coupled, non-quadratic problems: f_b(x) = Σ_i (x_i − c_b)² + ¼(x_0 x_1 − 1)² + 0.1 Σ_i x_i⁴.
BatchedObjective coupled_quartic(const Tensor& centres) {
  return [centres](const Tensor& x) {
    const Tensor c = unsqueeze(centres.to(x.device()), 1);
    const Tensor product = slice(x, 1, 0, 1) * slice(x, 1, 1, 2) - 1.0;
    return sum(square(x - c), {1}) + 0.25 * squeeze(square(product), 1) + 0.1 * sum(pow(x, 4.0), {1});
  };
}

// θ after three steps of the optimizer on L(θ) = ½Σ cθ² + Σ sin θ from `start`, on `device`; a fresh leaf,
// since the optimizers write in place.
template <class SecondOrderOptimizer>
Tensor three_steps(const Tensor& start, const Tensor& curvature, Device device) {
  Tensor theta = start.clone().to(device).requires_grad_();
  const Tensor c = curvature.to(device);
  SecondOrderOptimizer optimizer({theta});
  for (int k = 0; k < 3; ++k) optimizer.step([&] { return 0.5 * sum(c * theta * theta) + sum(sin(theta)); });
  return theta.detach();
}

void check_same_records(const QuasiNewtonResult& on_device, const QuasiNewtonResult& on_cpu) {
  REQUIRE(on_device.problems.size() == on_cpu.problems.size());
  for (std::size_t b = 0; b < on_cpu.problems.size(); ++b) {
    CAPTURE(b);
    CHECK(on_device.problems[b].reason == on_cpu.problems[b].reason);
    CHECK(on_device.problems[b].iterations == on_cpu.problems[b].iterations);
    CHECK(on_device.problems[b].evaluations == on_cpu.problems[b].evaluations);
  }
  check_agrees(on_device.x, on_cpu.x, 1e-10);
  check_agrees(on_device.loss, on_cpu.loss, 1e-12);
}

}  // namespace

TEST_CASE("batched BFGS and L-BFGS take the same steps on the device as on the CPU") {
  if (!cuda_device_present()) return;
  const Tensor centres = from_vector({-1.5, -0.5, 0.0, 0.7, 2.0, 3.5}, {6}, DType::f64);
  const BatchedObjective f = coupled_quartic(centres);
  const Tensor x0 = random_tensor({6, 5}, DType::f64, 20);
  const QuasiNewtonResult bfgs_cpu = bfgs_minimize(f, x0), bfgs_device = bfgs_minimize(f, x0.to(gpu));
  CHECK(bfgs_device.x.device() == gpu);
  check_same_records(bfgs_device, bfgs_cpu);
  for (const auto& record : bfgs_cpu.problems) CHECK(record.reason == StopReason::converged);

  LbfgsOptions limited;
  limited.memory = 3;
  check_same_records(lbfgs_minimize(f, x0.to(gpu), limited), lbfgs_minimize(f, x0, limited));
  // The subset form evaluates only the running rows: the gather and scatter of rows run on the device.
  const SubsetObjective subset = [&](const Tensor& x, const std::vector<std::int64_t>& rows) {
    return coupled_quartic(index_select(centres, 0, from_indices(rows, {std::int64_t(rows.size())})))(x);
  };
  check_same_records(bfgs_minimize(subset, x0.to(gpu)), bfgs_cpu);
}

TEST_CASE("Newton, saddle-free Newton and Gauss-Newton steps agree between the devices") {
  if (!cuda_device_present()) return;
  const Tensor centres = from_vector({-1.0, 0.5, 2.0}, {3}, DType::f64);
  const BatchedObjective f = coupled_quartic(centres);
  const Tensor x = random_tensor({3, 4}, DType::f64, 21);
  check_op([&](const std::vector<Tensor>& v) { return newton_step(f, v[0]).delta; }, {x}, 1e-12);
  SaddleFreeOptions capped;
  capped.max_loss_change = 0.2;
  check_op([&](const std::vector<Tensor>& v) { return saddle_free_newton_step(f, v[0], capped).delta; }, {x},
           1e-12);
  const UnaryFunction residual = [](const Tensor& v) {
    return concat({sin(v) - 0.3, slice(v, 1, 0, 1) * slice(v, 1, 1, 2)}, 1);
  };
  check_op([&](const std::vector<Tensor>& v) { return gauss_newton_step(residual, v[0]).delta; }, {x}, 1e-12);
}

TEST_CASE("Hessian-free and AdaHessian update device parameters as they update CPU ones") {
  if (!cuda_device_present()) return;
  const Tensor curvature = from_vector({1.0, 10.0, 100.0, 0.5}, {4}, DType::f64);
  const Tensor start = random_tensor({4}, DType::f64, 22);
  check_agrees(three_steps<HessianFree>(start, curvature, gpu),
               three_steps<HessianFree>(start, curvature, Device::cpu()), 1e-12);
  check_agrees(three_steps<AdaHessian>(start, curvature, gpu),
               three_steps<AdaHessian>(start, curvature, Device::cpu()), 1e-12);
}

TEST_CASE("Adam and AdamW take one-pass steps on the device as on the CPU, f32 and f64") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    const Tensor start = random_tensor({33}, dtype, 23), curvature = random_tensor({33}, dtype, 24, 0.5, 2.0);
    const auto five_steps = [&](Device device, bool decoupled) {
      Tensor theta = start.clone().to(device).requires_grad_();
      const Tensor c = curvature.to(device);
      AdamWOptions options;
      options.lr = 0.05;
      options.weight_decay = 0.1;
      std::unique_ptr<Optimizer> adam;
      if (decoupled)
        adam = std::make_unique<AdamW>(std::vector<Tensor>{theta}, options);
      else
        adam = std::make_unique<Adam>(std::vector<Tensor>{theta}, options);
      for (int k = 0; k < 5; ++k) {
        adam->zero_grad();
        backward(0.5 * sum(c * theta * theta));
        adam->step();
      }
      return theta.detach();
    };
    for (const bool decoupled : {false, true})
      check_agrees(five_steps(gpu, decoupled), five_steps(Device::cpu(), decoupled), 10 * tolerance(dtype));
  }
}

TEST_CASE("the JPO trainer on the device tracks, clips and trains as on the CPU") {
  if (!cuda_device_present()) return;
  const Tensor weights = from_vector({1.0, 2.0, 3.0, 4.0, 50.0, 0.5}, {6}, DType::f64);
  const Tensor targets = random_tensor({6, 2}, DType::f64, 23);
  const Tensor inputs = random_tensor({6, 3}, DType::f64, 24);
  const auto run = [&](Device device) {
    Generator gen(25);
    nn::Linear net(3, 2, gen, /*bias=*/true, DType::f64);
    net.to(device);
    Adam adam(net.parameters(), AdamOptions{});
    const Tensor w = weights.to(device), t = targets.to(device);
    const BatchedObjective objective = [w, t](const Tensor& x) { return 0.5 * w * sum(square(x - t), {1}); };
    JpoTrainer trainer(
        net, inputs.to(device), [](const Tensor& raw) { return tanh(raw); }, objective, adam);
    std::vector<JpoStepReport> reports;
    for (int k = 0; k < 4; ++k) reports.push_back(trainer.step());
    return std::make_tuple(reports, trainer.best_solutions(), trainer.best_losses(), trainer.refine().x);
  };
  const auto [device_reports, device_best, device_losses, device_refined] = run(gpu);
  const auto [cpu_reports, cpu_best, cpu_losses, cpu_refined] = run(Device::cpu());
  for (std::size_t k = 0; k < cpu_reports.size(); ++k) {
    CAPTURE(k);
    CHECK(device_reports[k].total_loss == doctest::Approx(cpu_reports[k].total_loss).epsilon(1e-12));
    CHECK(device_reports[k].clip_threshold == doctest::Approx(cpu_reports[k].clip_threshold).epsilon(1e-12));
    CHECK(device_reports[k].improved == cpu_reports[k].improved);
  }
  check_agrees(device_best, cpu_best, 1e-12);
  check_agrees(device_losses, cpu_losses, 1e-12);
  check_agrees(device_refined, cpu_refined, 1e-10);

  // The percentile clip hands a device input back on the device.
  const Tensor per_example = random_tensor({7, 3}, DType::f32, 26);
  check_op([](const std::vector<Tensor>& v) { return clip_per_example_percentile(v[0], 0.8).gradients; },
           {per_example}, 1e-7);
}
