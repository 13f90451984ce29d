// One HIG step on the Poisson case of shared/experiments/hig.md §2.3: the 64 → 64 → 256 → 64 (tanh) → 64 MLP
// (41,408 weights, f32) predicts φ from ρ on an 8×8 grid, the physics is the 5-point Dirichlet Laplacian
// y = Δ_h φ, ℓ = ½‖y − ρ‖², L = Σ_b ℓ_b, η = 0.02, τ = 1e-5; batch 64 gives a 4096 × 41,408 Jacobian. J is
// stacked in f64 and half-inverted in f64 (hig.md A9) by the Gram route (J·Jᵀ and its eigendecomposition).
// Prints `dphys <workload> <value> <unit>` (medians); bench/hig_step_torch.py does the same step in PyTorch.
// Usage: bench_hig_step [batch, default 64] [repeats, default 3] [cuda]
//   cuda: the network, ρ and J on the GPU (workloads get a _cuda suffix); each timed run then ends with a
//   device synchronisation.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "dphys.h"
#include "engine/linalg.h"
#include "nn/architectures.h"
#include "optim/hig.h"
#include "solvers/stencils.h"

using namespace dphys;
using bench::median;

namespace {

class PoissonProblem : public optim::PhysicsProblem {
 public:
  // φ [B, 64] -> Δ_h φ [B, 64] on the 8×8 grid with zero ghost cells.
  Tensor forward(const Tensor& phi) const override {
    const std::int64_t batch = phi.size(0);
    return reshape(laplacian(reshape(phi, {batch, 8, 8}), 2, 1.0, 1.0, Boundary::dirichlet), {batch, 64});
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t batch = argc > 1 ? std::atoll(argv[1]) : 64;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const bool on_gpu = argc > 3 && std::string(argv[3]) == "cuda";
  const Device device = on_gpu ? Device::cuda() : Device::cpu();
  const std::string suffix = on_gpu ? "_cuda" : "";
  const auto median_ms = [on_gpu](int n, const std::function<void()>& run) {
    return bench::median_ms(n, [&] {
      run();
      if (on_gpu) cuda_synchronize();
    });
  };
  Generator gen(0);
  auto net = nn::make_hig_poisson_mlp(gen);
  net->to(device);
  const PoissonProblem problem;
  // ρ = Δ_h φ of a random potential (the reference's recipe, hig.md §2.3, without its Fourier weighting,
  // which does not change the cost).
  const Tensor rho = problem.forward(normal({batch, 64}, 0, 1, gen).to(device));
  const optim::HigPhysics physics = [&](const Tensor& phi, const Tensor&) { return problem.forward(phi); };
  std::printf("dphys hig_poisson_parameters %lld count\n", static_cast<long long>(net->num_parameters()));
  std::printf("dphys hig_poisson_jacobian_rows %lld count\n", static_cast<long long>(batch * 64));

  // The ways of stacking J (optim/hig.h, JacobianMethod): per example on all threads and on one, whole batch.
  const auto jacobian_ms = [&](optim::JacobianMethod method) {
    return median_ms(repeats, [&] { optim::stacked_jacobian(*net, physics, rho, Tensor(), method); });
  };
  std::printf("dphys hig_poisson_jacobian_per_example%s_ms %.1f ms\n", suffix.c_str(),
              jacobian_ms(optim::JacobianMethod::per_example));
  if (!on_gpu) {
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    std::printf("dphys hig_poisson_jacobian_per_example_1thread_ms %.1f ms\n",
                jacobian_ms(optim::JacobianMethod::per_example));
    std::printf("dphys hig_poisson_jacobian_whole_batch_1thread_ms %.1f ms\n",
                jacobian_ms(optim::JacobianMethod::whole_batch));
    omp_set_num_threads(threads);
  }
  std::printf("dphys hig_poisson_jacobian_whole_batch%s_ms %.1f ms\n", suffix.c_str(),
              jacobian_ms(optim::JacobianMethod::whole_batch));

  // Where the half-inversion's time goes (the Gram route: J·Jᵀ, then its eigendecomposition).
  const Tensor jacobian = optim::stacked_jacobian(*net, physics, rho).jacobian;
  Tensor gram;
  std::printf("dphys hig_poisson_gram%s_ms %.1f ms\n", suffix.c_str(),
              median_ms(repeats, [&] { gram = kernel::gram(jacobian); }));
  std::printf("dphys hig_poisson_eigh%s_ms %.1f ms\n", suffix.c_str(),
              median_ms(repeats, [&] { kernel::eigh(gram); }));

  // Medians over `repeats` steps of the step and of its two parts, timed inside each step (HigReport).
  optim::HigOptions options;
  options.lr = 0.02;
  options.power.truncation = 1e-5;
  options.reduction = optim::BatchReduction::sum;
  optim::HigTrainer trainer(*net, problem, options);
  std::vector<double> jacobian_parts, solve_parts;
  optim::HigReport report;
  const double step_ms = median_ms(repeats, [&] {
    report = trainer.step(rho, rho);
    jacobian_parts.push_back(report.jacobian_ms);
    solve_parts.push_back(report.solve_ms);
  });
  std::printf("dphys hig_poisson_jacobian%s_ms %.1f ms\n", suffix.c_str(), median(jacobian_parts));
  std::printf("dphys hig_poisson_svd%s_ms %.1f ms\n", suffix.c_str(), median(solve_parts));
  std::printf("dphys hig_poisson_step%s_ms %.1f ms\n", suffix.c_str(), step_ms);
  std::printf("dphys hig_poisson_kept_modes %lld count\n", static_cast<long long>(report.kept));
  return 0;
}
