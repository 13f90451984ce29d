#include "steps.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "autodiff/backward.h"
#include "autodiff/ops.h"
#include "optim/adam.h"
#include "optim/gauss_newton.h"
#include "optim/hig.h"
#include "optim/newton.h"

namespace dphys::pbdl_toy {

namespace {

// ∂L/∂y at y [1, m].
Tensor loss_gradient(const Loss& loss_y, const Tensor& y) {
  return optim::batched_value_and_grad(loss_y, y).second.detach();
}

// J = ∂y/∂x as [1, m, n].
Tensor simulator_jacobian(const Simulator& simulator, const Tensor& x) {
  return optim::batched_jacobian(simulator, x).detach();
}

Device run_device = Device::cpu();

}  // namespace

void set_run_device(Device device) { run_device = device; }

Tensor point(const std::vector<double>& values) {
  return from_vector(values, {1, static_cast<std::int64_t>(values.size())}, DType::f64, run_device);
}

Loss compose(const Loss& loss_y, const Simulator& simulator) {
  return [=](const Tensor& x) { return loss_y(simulator(x)); };
}

Tensor gd_step(const Loss& loss, const Tensor& x, double eta) {
  return (optim::batched_value_and_grad(loss, x).second * -eta).detach();
}

Tensor newton_step(const Loss& loss, const Tensor& x, double eta) {
  return optim::newton_step(loss, x).delta * eta;
}

Tensor loss_newton_dy(const Loss& loss_y, const Tensor& y, double eta) {
  return optim::newton_step(loss_y, y).delta * eta;
}

Tensor ig_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta) {
  const Tensor jacobian = simulator_jacobian(simulator, x);
  DPHYS_CHECK(jacobian.size(1) == jacobian.size(2),
              "ig_step: the simulator's Jacobian has shape {}; IG needs a square one",
              shape_str(jacobian.shape()));
  // For a square invertible J the pseudo-inverse is J⁻¹ (no truncation: rcond 0), so the Gauss–Newton
  // solve of the "residual" −Δy returns J⁻¹Δy.
  return optim::gauss_newton_solve(jacobian, -loss_newton_dy(loss_y, simulator(x), eta), 0.0).delta;
}

Tensor pg_step(const Simulator& simulator, const LocalInverse& inverse, const Loss& loss_y, const Tensor& x,
               double eta) {
  const Tensor y = simulator(x);
  return inverse(y + loss_newton_dy(loss_y, y, eta), x) - x;
}

Tensor gn_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta) {
  const Tensor jacobian = simulator_jacobian(simulator, x);
  return optim::gauss_newton_solve(jacobian, loss_gradient(loss_y, simulator(x))).delta * eta;
}

Tensor hig_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta) {
  const Tensor jacobian = simulator_jacobian(simulator, x);
  const std::int64_t m = jacobian.size(1), n = jacobian.size(2);
  optim::JacobianPowerOptions half_inverse;
  half_inverse.kappa = -0.5;
  const Tensor direction =
      optim::apply_jacobian_power(reshape(jacobian, {m, n}),
                                  reshape(loss_gradient(loss_y, simulator(x)), {m}), half_inverse)
          .result;
  return reshape(direction, {1, n}) * -eta;
}

Path iterate(const Tensor& x0, const Update& next, int max_steps,
             const std::function<bool(int, const std::vector<double>&)>& done) {
  const auto start = std::chrono::steady_clock::now();
  Path path;
  Tensor x = x0;
  for (int k = 0;; ++k) {
    path.x.push_back(x.to_vector<double>());
    path.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (k == max_steps || (done && done(k, path.x.back()))) return path;
    x = next(x).detach();
  }
}

Path adam_path(const Loss& loss, const Tensor& x0, double lr, int steps) {
  Tensor x = x0.clone();
  x.requires_grad_();
  optim::AdamOptions options;
  options.lr = lr;
  optim::Adam adam({x}, options);
  return iterate(
      x0,
      [&](const Tensor&) {
        adam.zero_grad();
        backward(sum(loss(x)));
        adam.step();
        return x.detach().clone();
      },
      steps);
}

Tensor as_tensor(const Path& path) {
  std::vector<double> flat;
  for (const auto& x : path.x) flat.insert(flat.end(), x.begin(), x.end());
  return from_vector(flat,
                     {static_cast<std::int64_t>(path.x.size()), static_cast<std::int64_t>(path.x[0].size())},
                     DType::f64, run_device);
}

Path head(const Path& path, std::size_t n) {
  const std::size_t count = std::min(n + 1, path.x.size());
  return {{path.x.begin(), path.x.begin() + count}, {path.seconds.begin(), path.seconds.begin() + count}};
}

double norm(const std::vector<double>& v) {
  double total = 0.0;
  for (double e : v) total += e * e;
  return std::sqrt(total);
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double total = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(total);
}

int first_below(const Path& path, double bound) {
  for (std::size_t k = 0; k < path.x.size(); ++k)
    if (norm(path.x[k]) < bound) return static_cast<int>(k);
  return -1;
}

}  // namespace dphys::pbdl_toy
