// One step of the SIP fluid (shared/experiments/sip.md §2.6.2): periodic MAC grid of cells of size 2,
// Δt = 0.25, MacCormack self-advection, CG pressure projection warm-started from the previous pressure,
// energy renormalisation, MacCormack marker advection; f32. CG runs a fixed number of iterations (tolerance
// 0) so that bench/fluid_torch.py, which writes the same step with PyTorch ops, does the same work.
//
// Usage: bench_fluid [cuda]
//          step times as `dphys <workload> <ms> ms` lines, and `check dphys <quantity> <value>` lines that
//          bench/run_fluid.sh sets beside the PyTorch script's to show both compute the same step; with
//          `cuda` the fields live on the GPU and each timed run ends with a device synchronisation
//        bench_fluid memory plain|checkpoint FILE [BATCH STEPS [cuda]]
//          peak memory (VmHWM) of the gradient of a 64×64 rollout (default 56 steps, batch 64), without
//          checkpoints or with one every 7 steps; `plain` writes its gradient to FILE, `checkpoint` compares
//          its own with it (run plain first); with `cuda` the rollout runs on the GPU and the peak of device
//          memory held by tensors is reported too
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "dphys.h"
#include "engine/device_memory.h"
#include "solvers/fluid_step.h"

using namespace dphys;
using bench::median_ms;

namespace {

constexpr double kCellSize = 2.0;  // sip.md §2.6.2: [0, 128]² on 64×64 cells
constexpr int kCheckpointEvery = 7;

// Where the step benchmark's fields live (`bench_fluid cuda`).
Device device = Device::cpu();

// The median time of `run`, counting the device work it queued.
double timed_ms(int repeats, const std::function<void()>& run) {
  return median_ms(repeats, [&] {
    run();
    if (!device.is_cpu()) cuda_synchronize();
  });
}

// Iterations of the warm-started pressure solve: about what sip.md's absolute tolerance 1e-4 takes on this
// flow (bench/RESULTS.md, "Fluid step").
int cg_iterations(std::int64_t n) { return n <= 64 ? 100 : 120; }

FluidSetup sip_setup(std::int64_t n) {
  FluidSetup setup;
  setup.grid.ny = setup.grid.nx = n;
  setup.grid.length_y = setup.grid.length_x = kCellSize * static_cast<double>(n);
  setup.grid.boundary = Boundary::periodic;
  setup.dt = 0.25;
  setup.advection.scheme = AdvectionScheme::mac_cormack;
  setup.renormalize_energy = true;
  setup.pressure_solve = CgOptions{0.0, 0.0, cg_iterations(n), false, false};
  return setup;
}

// f(example, y, x) at the samples of a `staggering` field, as f32 [B, ny', nx'].
Tensor sampled(const Grid2D& grid, Staggering staggering, std::int64_t batch,
               const std::function<double(std::int64_t, double, double)>& f) {
  const auto [y, x] = sample_points(grid, staggering, DType::f64);
  const std::vector<double> ys = y.to_vector<double>(), xs = x.to_vector<double>();
  std::vector<double> values;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::size_t i = 0; i < ys.size(); ++i) values.push_back(f(b, ys[i], xs[i]));
  return from_vector(values, staggered_shape(grid, staggering, batch), DType::f32).to(device);
}

// sip.md §2.6.4's ingredients, analytic so that both benches start from the same state: a uniform
// translation, a Gaussian vortex at the centre whose strength varies over the batch (peak speed about 24 at
// every resolution) and a small-scale wave; the marker is a Gaussian blob.
FluidState initial_state(const Grid2D& grid, std::int64_t batch) {
  const double length = grid.length_x, centre = 0.5 * length, sigma = length / 6.4, pi = std::acos(-1.0);
  const auto vortex = [=](std::int64_t b, double y, double x) {
    const double omega =
        (-2.0 + 4.0 * (static_cast<double>(b) + 0.5) / static_cast<double>(batch)) * 128.0 / length;
    const double dy = y - centre, dx = x - centre;
    return omega * std::exp(-(dy * dy + dx * dx) / (2 * sigma * sigma));
  };
  const auto wave = [=](double y, double x) {
    return std::sin(6 * pi * x / length) * std::cos(4 * pi * y / length);
  };
  const Tensor vx = sampled(grid, Staggering::x_faces, batch, [&](std::int64_t b, double y, double x) {
    return -6.0 - vortex(b, y, x) * (y - centre) + 2.0 * wave(y, x);
  });
  const Tensor vy = sampled(grid, Staggering::y_faces, batch, [&](std::int64_t b, double y, double x) {
    return 4.0 + vortex(b, y, x) * (x - centre) + 2.0 * wave(x, y);
  });
  const Tensor marker = sampled(grid, Staggering::centered, batch, [&](std::int64_t, double y, double x) {
    const double dy = y - 0.4 * length, dx = x - 0.45 * length, width = length / 10;
    return std::exp(-(dy * dy + dx * dx) / (2 * width * width));
  });
  return {{vx, vy}, marker, Tensor()};
}

// The loss's weights: a plane wave over each face grid, and over the cells for the marker.
Tensor loss_weights(const Grid2D& grid, Staggering staggering) {
  const double k = 2 * std::acos(-1.0) / grid.length_x;
  return sampled(grid, staggering, 1,
                 [k](std::int64_t, double y, double x) { return std::cos(k * (x + 2 * y)); });
}

Tensor velocity_loss(const StaggeredField& v, const Grid2D& grid) {
  return sum(loss_weights(grid, Staggering::x_faces) * v.x_faces) +
         sum(loss_weights(grid, Staggering::y_faces) * v.y_faces);
}

double sum_abs(const std::vector<Tensor>& xs) {
  double total = 0;
  for (const Tensor& x : xs) total += sum(abs(cast(x, DType::f64))).item();
  return total;
}

void bench_step(const char* name, std::int64_t n, std::int64_t batch, int repeats) {
  const FluidSetup setup = sip_setup(n);
  // One untimed step projects the analytic velocity and leaves a pressure to warm-start from.
  const FluidState state = fluid_step(initial_state(setup.grid, batch), setup);
  FluidState next;
  const double forward = timed_ms(repeats, [&] { next = fluid_step(state, setup); });
  const Function loss = [&](const std::vector<Tensor>& v) {
    return velocity_loss(fluid_step({{v[0], v[1]}, state.marker, state.pressure}, setup).velocity,
                         setup.grid);
  };
  std::vector<Tensor> gradient;
  const double backward = timed_ms(repeats, [&] {
    gradient = grad(loss, {state.velocity.x_faces, state.velocity.y_faces});
  });
  const std::string suffix = device.is_cpu() ? "" : "_cuda";
  std::printf("dphys %s_forward%s_ms %.1f ms\n", name, suffix.c_str(), forward);
  std::printf("dphys %s_forward_backward%s_ms %.1f ms\n", name, suffix.c_str(), backward);
  std::printf("check dphys %s_sum_abs_velocity %.7g\n", name,
              sum_abs({next.velocity.x_faces, next.velocity.y_faces}));
  std::printf("check dphys %s_sum_abs_marker %.7g\n", name, sum_abs({next.marker}));
  std::printf("check dphys %s_sum_abs_gradient %.7g\n", name, sum_abs(gradient));
}

// Peak resident memory of this process so far, in MiB (VmHWM of /proc/self/status).
double peak_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  fail("bench_fluid: /proc/self/status has no VmHWM line");
}

int bench_memory(const std::string& mode, const std::string& gradient_file, std::int64_t batch, int steps) {
  const bool checkpointed = mode == "checkpoint";
  const FluidSetup setup = sip_setup(64);
  const FluidState state = fluid_step(initial_state(setup.grid, batch), setup);
  const Tensor marker_weights = loss_weights(setup.grid, Staggering::centered);
  const Function loss = [&](const std::vector<Tensor>& v) {
    const FluidState end = fluid_rollout({{v[0], v[1]}, state.marker, state.pressure}, setup, steps,
                                         checkpointed ? kCheckpointEvery : 0);
    return velocity_loss(end.velocity, setup.grid) + sum(marker_weights * end.marker);
  };
  const double before = peak_mib();
  const double device_before = static_cast<double>(device_memory::in_use_bytes()) / (1 << 20);
  device_memory::reset_peak();
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Tensor> gradient = grad(loss, {state.velocity.x_faces, state.velocity.y_faces});
  if (!device.is_cpu()) cuda_synchronize();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double peak = peak_mib();
  if (!device.is_cpu()) {
    std::printf("memory %s_device_in_use_before_rollout %.1f MiB\n", mode.c_str(), device_before);
    std::printf("memory %s_device_peak %.1f MiB\n", mode.c_str(),
                static_cast<double>(device_memory::peak_bytes()) / (1 << 20));
  }
  std::printf("memory %s_rollout batch %lld, %d steps, checkpoint every %d\n", mode.c_str(),
              static_cast<long long>(batch), steps, checkpointed ? kCheckpointEvery : 0);
  std::printf("memory %s_peak_before_rollout %.1f MiB\n", mode.c_str(), before);
  std::printf("memory %s_peak %.1f MiB\n", mode.c_str(), peak);
  std::printf("memory %s_seconds %.1f s\n", mode.c_str(), seconds);
  std::vector<double> values;
  for (const Tensor& g : gradient)
    for (double v : cast(g, DType::f64).to_vector<double>()) values.push_back(v);
  if (!checkpointed) {
    std::ofstream(gradient_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(values.data()),
               static_cast<std::streamsize>(values.size() * sizeof(double)));
    return 0;
  }
  std::vector<double> plain(values.size());
  std::ifstream in(gradient_file, std::ios::binary);
  in.read(reinterpret_cast<char*>(plain.data()), static_cast<std::streamsize>(plain.size() * sizeof(double)));
  DPHYS_CHECK(in.gcount() == static_cast<std::streamsize>(plain.size() * sizeof(double)),
              "bench_fluid: {} does not hold a plain gradient of {} values; run `memory plain {}` first",
              gradient_file, values.size(), gradient_file);
  double difference = 0, largest = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    difference = std::max(difference, std::abs(values[i] - plain[i]));
    largest = std::max(largest, std::abs(plain[i]));
  }
  std::printf("memory gradient_max_abs_difference %.3g\n", difference);
  std::printf("memory gradient_max_abs %.3g\n", largest);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if ((argc == 4 || argc == 6 || (argc == 7 && std::strcmp(argv[6], "cuda") == 0)) &&
      std::strcmp(argv[1], "memory") == 0 &&
      (std::strcmp(argv[2], "plain") == 0 || std::strcmp(argv[2], "checkpoint") == 0)) {
    if (argc == 7) device = Device::cuda();
    // jpo.md §9.2's rollout length and sip.md's batch unless given.
    return bench_memory(argv[2], argv[3], argc >= 6 ? std::atoll(argv[4]) : 64,
                        argc >= 6 ? std::atoi(argv[5]) : 56);
  }
  if (argc == 2 && std::strcmp(argv[1], "cuda") == 0) {
    device = Device::cuda();
  } else if (argc != 1) {
    std::fprintf(stderr,
                 "usage: bench_fluid [cuda | memory plain|checkpoint GRADIENT_FILE [BATCH STEPS [cuda]]]\n");
    return 2;
  }
  bench_step("fluid_step_64x64_batch64", 64, 64, 5);
  bench_step("fluid_step_256x256_batch1", 256, 1, 5);
  return 0;
}
