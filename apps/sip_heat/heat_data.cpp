#include "heat_data.h"

#include <algorithm>

#include "autodiff/ops.h"
#include "solvers/heat.h"

namespace dphys::app {

namespace {

// Length of the overlap of the cell [i, i + 1) with [lo, hi).
double overlap(std::int64_t i, double lo, double hi) {
  return std::max(0.0, std::min(static_cast<double>(i + 1), hi) - std::max(static_cast<double>(i), lo));
}

}  // namespace

Tensor heat_sources(std::int64_t batch, Generator& gen) {
  constexpr int kCandidates = 10;
  const double n = static_cast<double>(kHeatGrid);
  Tensor x = zeros({batch, kHeatGrid, kHeatGrid}, DType::f64);
  // 1 count + 10 × (2 centre + 2 half-size + 1 strength) uniforms per example, drawn as one tensor.
  const std::vector<double> u =
      uniform({batch, 1 + 5 * kCandidates}, 0.0, 1.0, gen, DType::f64).to_vector<double>();
  double* out = x.data<double>();
  for (std::int64_t b = 0; b < batch; ++b) {
    const double* r = &u[b * (1 + 5 * kCandidates)];
    const int active = static_cast<int>(4 + 7 * r[0]);
    for (int j = 0; j < kCandidates; ++j) {
      const double* c = r + 1 + 5 * j;
      const double half_y = 10 * c[2], half_x = 10 * c[3];
      const double strength = j < active ? c[4] : 0.0;
      const double cy = std::clamp(0.1 * n + 0.8 * n * c[0], half_y, n - half_y);
      const double cx = std::clamp(0.1 * n + 0.8 * n * c[1], half_x, n - half_x);
      if (strength == 0.0) continue;
      for (std::int64_t i = 0; i < kHeatGrid; ++i) {
        const double wy = overlap(i, cy - half_y, cy + half_y);
        if (wy == 0.0) continue;
        for (std::int64_t k = 0; k < kHeatGrid; ++k)
          out[(b * kHeatGrid + i) * kHeatGrid + k] += strength * wy * overlap(k, cx - half_x, cx + half_x);
      }
    }
  }
  return x;
}

Tensor HeatProblem::forward(const Tensor& x) const {
  return heat_exact_2d(x, 1.0, kHeatNuT, static_cast<double>(kHeatGrid), static_cast<double>(kHeatGrid));
}

Tensor HeatProblem::inverse_update(const Tensor&, const Tensor& y, const Tensor& target) const {
  return heat_damped_inverse(target - y, kHeatNuT, static_cast<double>(kHeatGrid),
                             static_cast<double>(kHeatGrid), 1e-6, static_cast<double>(kHeatGrid));
}

double heat_error(const Tensor& x, const Tensor& x_star) { return mean(sum(abs(x - x_star), {1, 2})).item(); }

}  // namespace dphys::app
