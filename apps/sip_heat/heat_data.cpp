#include "heat_data.h"

#include "autodiff/ops.h"
#include "solvers/heat.h"

namespace dphys::app {

Tensor HeatProblem::forward(const Tensor& x) const {
  return heat_exact_2d(x, 1.0, kHeatNuT, static_cast<double>(kHeatGrid), static_cast<double>(kHeatGrid));
}

Tensor HeatProblem::inverse_update(const Tensor&, const Tensor& y, const Tensor& target) const {
  return heat_damped_inverse(target - y, kHeatNuT, static_cast<double>(kHeatGrid),
                             static_cast<double>(kHeatGrid), 1e-6, static_cast<double>(kHeatGrid));
}

double heat_error(const Tensor& x, const Tensor& x_star) { return mean(sum(abs(x - x_star), {1, 2})).item(); }

}  // namespace dphys::app
