// Batched BFGS on 256 Kuramoto–Sivashinsky parameter fits (jpo.md §8.3, simplified): unknowns (α, β) per
// problem, target u(t = 25) from 100 ETD-RK2 steps at (α*, β*) ~ U[0.5, 1.5]², loss Σ_j (u_j − y_j)², start
// (1, 1), f64. Prints the throughput of the whole solve, the median iteration count and the fraction of
// problems that reach L < 1e-6.
//
// Usage: bench_bfgs_ks [whole] [cuda]   only the running problems are simulated each round (a
//                                       SubsetObjective); with `whole`, every round simulates all 256 (a
//                                       BatchedObjective); with `cuda`, states, rollouts and iterates live
//                                       on the GPU (the line searches' bookkeeping stays on the host)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "dphys.h"
#include "optim/bfgs.h"
#include "solvers/kuramoto_sivashinsky.h"

using namespace dphys;

namespace {

// u0 = irfft(ĥ) with ĥ_n = (N(0, 1) + i·N(0, 1))·exp(−(n/8)²) for n = 1..63 and ĥ_0 = 0, rescaled to
// standard deviation 0.35 (jpo.md §8.3; the Nyquist mode, weighted e^{−64}, is left out).
Tensor smooth_initial_states(std::int64_t batch, std::int64_t n, Generator& gen) {
  const std::int64_t modes = n / 2 - 1;
  const std::vector<double> re = normal({batch, modes}, 0, 1, gen, DType::f64).to_vector<double>();
  const std::vector<double> im = normal({batch, modes}, 0, 1, gen, DType::f64).to_vector<double>();
  std::vector<double> u(batch * n, 0.0);
  for (std::int64_t b = 0; b < batch; ++b) {
    double* row = u.data() + b * n;
    for (std::int64_t m = 1; m <= modes; ++m) {
      const double weight = std::exp(-(m / 8.0) * (m / 8.0));
      const double a = weight * re[b * modes + m - 1], c = weight * im[b * modes + m - 1];
      for (std::int64_t j = 0; j < n; ++j) {
        const double theta = 2 * M_PI * static_cast<double>(m * j) / static_cast<double>(n);
        row[j] += a * std::cos(theta) - c * std::sin(theta);
      }
    }
    double mean = 0, square = 0;
    for (std::int64_t j = 0; j < n; ++j) mean += row[j] / n;
    for (std::int64_t j = 0; j < n; ++j) square += (row[j] - mean) * (row[j] - mean) / n;
    for (std::int64_t j = 0; j < n; ++j) row[j] *= 0.35 / std::sqrt(square);
  }
  return from_vector(u, {batch, n}, DType::f64);
}

}  // namespace

int main(int argc, char** argv) {
  bool whole_batch = false;
  Device device = Device::cpu();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "whole") {
      whole_batch = true;
    } else if (arg == "cuda") {
      device = Device::cuda();
    } else {
      std::fprintf(stderr, "usage: bench_bfgs_ks [whole] [cuda]\n");
      return 2;
    }
  }
  const std::int64_t batch = 256;
  const int steps = 100;

  const KuramotoSivashinsky ks({}, device);
  Generator gen(2024);
  const Tensor u0 = smooth_initial_states(batch, ks.config().n, gen).to(device);
  const Tensor truth = uniform({batch, 2}, 0.5, 1.5, gen, DType::f64).to(device);
  Tensor target;
  {
    NoGradGuard no_grad;
    target = ks.rollout(u0, reshape(slice(truth, 1, 0, 1), {batch}), reshape(slice(truth, 1, 1, 2), {batch}),
                        steps);
  }
  // Only the problems still running are simulated: the batch's cost follows each problem's own evaluations.
  const optim::SubsetObjective loss = [&](const Tensor& x, const std::vector<std::int64_t>& rows) {
    const std::int64_t count = static_cast<std::int64_t>(rows.size());
    const Tensor index = from_indices(rows, {count}, device);
    const Tensor alpha = reshape(slice(x, 1, 0, 1), {count}), beta = reshape(slice(x, 1, 1, 2), {count});
    return sum(
        square(ks.rollout(index_select(u0, 0, index), alpha, beta, steps) - index_select(target, 0, index)),
        {1});
  };

  // SciPy's defaults (gtol 1e-5, at most 200·d = 400 iterations).
  const optim::BfgsOptions options;
  const auto start = std::chrono::steady_clock::now();
  const optim::BatchedObjective all_rows = [&](const Tensor& x) {
    std::vector<std::int64_t> rows(batch);
    for (std::int64_t b = 0; b < batch; ++b) rows[b] = b;
    return loss(x, rows);
  };
  const Tensor x0 = ones({batch, 2}, DType::f64, device);
  const optim::QuasiNewtonResult result =
      whole_batch ? optim::bfgs_minimize(all_rows, x0, options) : optim::bfgs_minimize(loss, x0, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<int> iterations;
  int solved = 0, converged = 0, capped = 0, failed = 0, most_evaluations = 0, evaluations = 0;
  for (const optim::QuasiNewtonRecord& r : result.problems) {
    iterations.push_back(r.iterations);
    most_evaluations = std::max(most_evaluations, r.evaluations);
    evaluations += r.evaluations;
    solved += r.loss < 1e-6;
    converged += r.reason == optim::StopReason::converged;
    capped += r.reason == optim::StopReason::max_iterations;
    failed += r.reason == optim::StopReason::line_search_failed || r.reason == optim::StopReason::non_finite;
  }
  std::nth_element(iterations.begin(), iterations.begin() + batch / 2, iterations.end());
  const std::string name =
      std::string(whole_batch ? "bfgs_ks_256_whole_batch" : "bfgs_ks_256") + (device.is_cpu() ? "" : "_cuda");
  std::printf("dphys %s_problems_per_s %.2f problems/s\n", name.c_str(), batch / seconds);
  std::printf("dphys %s_median_iterations %d iterations\n", name.c_str(), iterations[batch / 2]);
  std::printf("dphys %s_fraction_below_1e-6 %.3f fraction\n", name.c_str(),
              static_cast<double>(solved) / batch);
  std::printf(
      "# %.1f s, %d batched evaluations (at most %d for one problem, %d over all problems); stops: %d "
      "converged, %d at max_iterations, %d line search failed or non-finite\n",
      seconds, result.rounds, most_evaluations, evaluations, converged, capped, failed);
  return 0;
}
