// Solver throughput: CG iterations per second on Poisson (Dirichlet, 5-point) at several sizes, and spectral
// steps per second (KS ETD-RK2, exact heat diffusion). Prints `dphys <workload> <value> <unit>` lines that
// bench/run_solvers.sh sets beside bench/solvers_torch.py's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "bench/timing.h"
#include "dphys.h"
#include "solvers/heat.h"
#include "solvers/kuramoto_sivashinsky.h"
#include "solvers/linear_solve.h"
#include "solvers/stencils.h"

using namespace dphys;
using bench::median_seconds;

namespace {

void bench_cg(const char* name, std::int64_t batch, std::int64_t n, int iterations, int repeats) {
  Generator gen(0);
  const Tensor b = normal({batch, n, n}, 0, 1, gen);
  const LinearOperator a = [](const Tensor& x) {
    return neg(laplacian(x, 2, 1.0, 1.0, Boundary::dirichlet));
  };
  CgOptions options;
  options.rel_tol = 0.0;
  options.abs_tol = 0.0;
  options.max_iterations = iterations;  // a fixed amount of work: the tolerance is never met
  options.strict = false;
  const double seconds = median_seconds(repeats, [&] { conjugate_gradient(a, b, Tensor(), options); });
  // Element traffic per iteration of the fused CG: operator (stencil 2N, negation 2N), pᵀAp 2N, the fused
  // x/r/z update 7N, the new direction 3N: 16N elements of 4 bytes. (The PyTorch script counts its own 25N.)
  const double bytes = 16.0 * 4.0 * static_cast<double>(batch * n * n) * iterations;
  std::printf("dphys %s_iterations_per_s %.1f it/s\n", name, iterations / seconds);
  std::printf("dphys %s_effective_bandwidth %.2f GB/s\n", name, bytes / seconds / 1e9);
}

}  // namespace

int main() {
  bench_cg("cg_64x64_batch64", 64, 64, 50, 7);
  bench_cg("cg_256x256_batch1", 1, 256, 50, 7);
  bench_cg("cg_1024x1024_batch1", 1, 1024, 20, 3);

  const KuramotoSivashinsky ks;
  Generator gen(1);
  const Tensor u = 0.35 * normal({256, 128}, 0, 1, gen, DType::f64);
  const Tensor alpha = ones({256}, DType::f64), beta = ones({256}, DType::f64);
  const double ks_seconds = median_seconds(7, [&] { ks.rollout(u, alpha, beta, 10); });
  std::printf("dphys ks_etdrk2_batch256_steps_per_s %.1f steps/s\n", 10 / ks_seconds);

  const Tensor field = normal({64, 64, 64}, 0, 1, gen, DType::f64);
  const double heat_seconds = median_seconds(7, [&] { heat_exact_2d(field, 1.0, 8.0, 64, 64); });
  std::printf("dphys heat_exact_64x64_batch64_steps_per_s %.1f steps/s\n", 1 / heat_seconds);
  return 0;
}
