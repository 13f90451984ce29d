// The main job until the SIP heat app lands: minimises the Rosenbrock function with Newton's method, the
// gradient and Hessian both from autodiff (the Hessian is the Jacobian of the gradient), and prints the
// convergence. Exits non-zero if it does not reach the minimum at (1, 1).
#include <cmath>
#include <cstdio>

#include "dphys.h"

using namespace dphys;

namespace {

Tensor rosenbrock(const Tensor& p) {
  const Tensor x = slice(p, 0, 0, 1), y = slice(p, 0, 1, 2);
  return sum(square(1.0 - x) + 100.0 * square(y - x * x));
}

}  // namespace

int main() {
  Tensor p = from_vector({-1.2, 1.0}, {2}, DType::f64);
  std::printf("Newton's method on the Rosenbrock function, start (-1.2, 1)\n");
  std::printf("%4s %14s %14s %12s\n", "iter", "f", "|grad f|", "step");
  for (int iter = 0; iter < 100; ++iter) {
    const auto [value, grads] =
        value_and_grad([](const std::vector<Tensor>& v) { return rosenbrock(v[0]); }, {p});
    const Tensor hessian = jacobian([](const Tensor& q) { return grad(rosenbrock, q); }, p);
    const auto g = grads[0].to_vector<double>();
    const auto h = hessian.to_vector<double>();
    const double grad_norm = std::hypot(g[0], g[1]);
    // Newton step H⁻¹ g for the 2×2 Hessian; halve it until f decreases (the function is not convex).
    const double det = h[0] * h[3] - h[1] * h[2];
    Tensor step =
        from_vector({(h[3] * g[0] - h[1] * g[1]) / det, (h[0] * g[1] - h[2] * g[0]) / det}, {2}, DType::f64);
    double scale = 1.0;
    while (scale > 1e-8 && rosenbrock(p - scale * step).item() > value.item()) scale *= 0.5;
    std::printf("%4d %14.6e %14.6e %12.3e\n", iter, value.item(), grad_norm, scale);
    if (grad_norm < 1e-10) {
      const auto q = p.to_vector<double>();
      std::printf("converged to (%.12f, %.12f) after %d iterations\n", q[0], q[1], iter);
      return std::abs(q[0] - 1.0) < 1e-8 && std::abs(q[1] - 1.0) < 1e-8 ? 0 : 1;
    }
    p = p - scale * step;
  }
  std::printf("did not converge\n");
  return 1;
}
