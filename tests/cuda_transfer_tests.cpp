// Copies between host and device on the hot paths. On a GPU each one makes the host wait for the device,
// which then idles while the host queues the next kernels; a training step should therefore copy nothing
// but the scalars it reports. The counts do not depend on the hardware, so the emulated device of CI's
// sanitizer stage checks them as a GPU would. Every case skips without a device.
#include "cuda_test_util.h"
#include "engine/device_memory.h"
#include "nn/architectures.h"
#include "optim/adam.h"
#include "optim/trainers.h"
#include "solvers/cg_control.h"
#include "solvers/fluid_masks.h"
#include "solvers/fluid_step.h"
#include "solvers/heat.h"
#include "solvers/heat_sources.h"
#include "solvers/kuramoto_sivashinsky.h"
#include "solvers/oscillators.h"
#include "solvers/spectral.h"

using namespace dphys;
using namespace dphys::cuda_test;

namespace {

// The copies of the second call of `step`: the first may fill caches (tables, FFT plans) once.
template <class F>
device_memory::TransferCounts steady_transfers(F&& step) {
  step();
  device_memory::reset_transfers();
  step();
  return device_memory::transfers();
}

// SIP's heat problem (sip.md §2.5) at a small size: exact diffusion and its damped spectral inverse.
class SmallHeatProblem : public optim::PhysicsProblem {
 public:
  Tensor forward(const Tensor& x) const override { return heat_exact_2d(x, 1.0, 2.0, 16.0, 16.0); }
  Tensor inverse_update(const Tensor&, const Tensor& y, const Tensor& target) const override {
    return heat_damped_inverse(target - y, 2.0, 16.0, 16.0, 1e-6, 16.0);
  }
};

// The U-net's [B, 1, 16, 16] f32 output as the heat problem's [B, 16, 16] f64 unknowns.
class HeatNetwork : public nn::Module {
 public:
  explicit HeatNetwork(Generator& gen) : unet_(register_module("unet", nn::make_sip_heat_unet(gen))) {}
  Tensor forward(const Tensor& observed) override {
    return reshape(cast((*unet_)(observed), DType::f64), {observed.shape()[0], 16, 16});
  }

 private:
  std::shared_ptr<nn::Module> unet_;
};

}  // namespace

TEST_CASE("transfer counts follow the copies between host and device, and only those") {
  if (!cuda_device_present()) return;
  const Tensor host = random_tensor({4, 8}, DType::f64, 1);
  device_memory::reset_transfers();
  const Tensor on_device = host.to(gpu);
  const Tensor device_copy = on_device.clone();
  const Tensor host_copy = host.clone();
  const double total = sum(device_copy).item();
  const device_memory::TransferCounts counts = device_memory::transfers();
  CHECK(counts.host_to_device == 1);
  CHECK(counts.host_to_device_bytes == 4 * 8 * sizeof(double));
  CHECK(counts.device_to_host == 1);
  CHECK(counts.device_to_host_bytes == sizeof(double));
  CHECK(total == doctest::Approx(sum(host_copy).item()));
  device_memory::reset_transfers();
  CHECK(device_memory::transfers().host_to_device == 0);
  CHECK(device_memory::transfers().device_to_host == 0);
}

TEST_CASE("a U-net training step on the device copies nothing between host and device") {
  if (!cuda_device_present()) return;
  Generator gen(3);
  const std::shared_ptr<nn::Module> unet = nn::make_sip_heat_unet(gen);
  unet->to(gpu);
  optim::Adam adam(unet->parameters(), optim::AdamOptions{1e-3});
  const Tensor input = random_tensor({2, 1, 16, 16}, DType::f32, 4).to(gpu);
  const auto counts = steady_transfers([&] {
    adam.zero_grad();
    backward(sum(square((*unet)(input))));
    adam.step();
  });
  CHECK(counts.host_to_device == 0);
  CHECK(counts.device_to_host == 0);
}

TEST_CASE("a SIP step on the heat problem copies only its two reported losses to the host") {
  if (!cuda_device_present()) return;
  Generator gen(5);
  HeatNetwork network(gen);
  network.to(gpu);
  optim::Adam adam(network.parameters(), optim::AdamOptions{1e-3});
  const SmallHeatProblem problem;
  const Tensor y_star = problem.forward(random_tensor({2, 16, 16}, DType::f64, 6, 0.0, 1.0).to(gpu));
  const Tensor input = reshape(cast(y_star, DType::f32), {2, 1, 16, 16});
  optim::StepReport report;
  const auto counts =
      steady_transfers([&] { report = optim::SipTrainer(network, problem, adam).step(input, y_star); });
  CHECK(counts.host_to_device == 0);
  CHECK(counts.device_to_host == 2);
  CHECK(std::isfinite(report.loss));
  CHECK(std::isfinite(report.proxy_loss));
}

TEST_CASE("drawing a SIP heat batch on the device copies nothing between host and device") {
  if (!cuda_device_present()) return;
  Generator gen(17);
  const auto counts = steady_transfers([&] { sip_heat_sources(4, 32, gen, gpu); });
  CHECK(counts.host_to_device == 0);
  CHECK(counts.device_to_host == 0);
}

TEST_CASE("spectral solver gradients on the device copy nothing between host and device") {
  if (!cuda_device_present()) return;
  SUBCASE("Kuramoto-Sivashinsky ETD-RK2 rollout") {
    const KuramotoSivashinsky ks({32, 32.0, 0.25}, gpu);
    const Tensor u0 = random_tensor({3, 32}, DType::f64, 7, -1.0, 1.0).to(gpu).requires_grad_();
    const Tensor alpha = random_tensor({3}, DType::f64, 8, 0.5, 1.5).to(gpu);
    const Tensor beta = random_tensor({3}, DType::f64, 9, 0.5, 1.5).to(gpu);
    const auto counts = steady_transfers([&] { backward(sum(square(ks.rollout(u0, alpha, beta, 4)))); });
    CHECK(counts.host_to_device == 0);
    CHECK(counts.device_to_host == 0);
  }
  SUBCASE("spectral derivative and exact heat diffusion") {
    const Tensor u = random_tensor({3, 32}, DType::f64, 10).to(gpu).requires_grad_();
    const Tensor field = random_tensor({2, 16, 16}, DType::f64, 11).to(gpu).requires_grad_();
    const auto counts = steady_transfers([&] {
      backward(sum(square(spectral_derivative(u, 8.0))) +
               sum(square(heat_exact_2d(field, 0.1, 1.0, 4.0, 4.0))));
    });
    CHECK(counts.host_to_device == 0);
    CHECK(counts.device_to_host == 0);
  }
}

TEST_CASE("an oscillator rollout gradient on the device copies nothing between host and device") {
  if (!cuda_device_present()) return;
  const OscillatorConfig config{{0.0, 3.0, 1.0}, 1.0, 0.125};
  const Tensor state = random_tensor({4, 6}, DType::f64, 12).to(gpu);
  const Tensor controls = random_tensor({4, 8}, DType::f64, 13).to(gpu).requires_grad_();
  const auto counts =
      steady_transfers([&] { backward(sum(square(oscillator_rollout(state, controls, config)))); });
  CHECK(counts.host_to_device == 0);
  CHECK(counts.device_to_host == 0);
}

TEST_CASE("a fluid step with obstacles on the device copies only per-example scalars") {
  if (!cuda_device_present()) return;
  const std::int64_t batch = 2;
  const Grid2D grid{8, 8, 8.0, 8.0, 0.0, 0.0, Boundary::neumann};
  std::vector<double> solid_cells(64, 0.0);
  solid_cells[3 * 8 + 4] = 1.0;
  FluidSetup setup;
  setup.grid = grid;
  setup.masks = fluid_masks(grid, from_vector(solid_cells, {1, 8, 8}, DType::f64), DType::f64, gpu);
  setup.dt = 0.5;
  setup.advection = {AdvectionScheme::mac_cormack, BackTrace::rk2};
  const Tensor vx =
      random_tensor(grid.x_face_shape(batch), DType::f64, 14, -0.5, 0.5).to(gpu).requires_grad_();
  const Tensor vy = random_tensor(grid.y_face_shape(batch), DType::f64, 15, -0.5, 0.5).to(gpu);
  const Tensor marker = random_tensor({batch, 8, 8}, DType::f64, 16, 0.0, 1.0).to(gpu);
  const auto counts = steady_transfers([&] {
    const FluidState end = fluid_rollout({{vx, vy}, marker, Tensor()}, setup, 2);
    backward(sum(square(end.velocity.x_faces)) + sum(end.marker));
  });
  // CG's per-example scalars stay on the device; the host reads their record now and then to decide whether
  // to stop (solvers/cg_control.h) and checks each solve's inputs for NaN. No field travels.
  CHECK(counts.host_to_device == 0);
  const std::size_t record_bytes = cg_control::kRows * batch * sizeof(double);
  CHECK(counts.device_to_host_bytes <= record_bytes * static_cast<std::size_t>(counts.device_to_host));
  MESSAGE("a 2-step fluid gradient read the device " << counts.device_to_host << " times");
}
