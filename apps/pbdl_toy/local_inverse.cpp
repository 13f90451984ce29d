#include "local_inverse.h"

#include <algorithm>
#include <cmath>

#include "autodiff/ops.h"
#include "optim/bfgs.h"
#include "optim/gauss_newton.h"

namespace dphys::pbdl_toy {

namespace {

double max_abs(const Tensor& x) {
  double largest = 0.0;
  for (double v : x.to_vector<double>()) largest = std::max(largest, std::abs(v));
  return largest;
}

}  // namespace

LocalInverse lbfgs_inverse(Simulator simulator) {
  return [simulator](const Tensor& y, const Tensor& guess) {
    optim::LbfgsOptions options;
    // SciPy's gtol 1e-5 would leave x off by ~1e-6 (the notebook's MAE); the residual's gradient can go
    // much lower in f64.
    options.gtol = 1e-12;
    const auto mismatch = [&](const Tensor& x) { return sum(square(simulator(x) - y), {1}) * 0.5; };
    return optim::lbfgs_minimize(mismatch, guess, options).x;
  };
}

LocalInverse gauss_newton_inverse(Simulator simulator) {
  return [simulator](const Tensor& y, const Tensor& guess) {
    const auto residual = [&](const Tensor& x) { return simulator(x) - y; };
    Tensor x = guess;
    // Quadratic convergence from a warm start: a few steps reach rounding level; 50 only bounds a failure.
    for (int k = 0; k < 50; ++k) {
      const Tensor delta = optim::gauss_newton_step(residual, x).delta;
      x = x + delta;
      if (max_abs(delta) <= 1e-15 * (1.0 + max_abs(x))) break;
    }
    return x;
  };
}

}  // namespace dphys::pbdl_toy
