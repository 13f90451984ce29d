#include "sine_problem.h"

#include <cmath>

#include "autodiff/ops.h"
#include "optim/newton.h"

namespace dphys::app {

namespace {

constexpr double kPi = 3.14159265358979323846;

void check_batch(const Tensor& x, const Tensor& target, const char* what) {
  DPHYS_CHECK(x.dim() == 2 && x.size(1) == 2 && x.dtype() == DType::f64 &&
                  (!target.defined() || target.shape() == x.shape()),
              "SineProblem::{}: expected x and y* of shape [B, 2] f64, got x {} ({}){}", what,
              shape_str(x.shape()), dtype_name(x.dtype()),
              target.defined() ? fmt::format(" and y* {}", shape_str(target.shape())) : std::string());
}

}  // namespace

SineProblem::SineProblem(double xi, double phi, double gamma, double max_loss_change)
    : max_loss_change_(max_loss_change) {
  DPHYS_CHECK(xi > 0 && gamma > 0 && std::isfinite(xi) && std::isfinite(gamma) && std::isfinite(phi),
              "SineProblem: need finite ξ > 0, γ > 0 and φ, got ξ={} γ={} φ={}", xi, gamma, phi);
  const double d[2] = {gamma / xi, gamma * xi};
  const double r[2][2] = {{std::cos(phi), -std::sin(phi)}, {std::sin(phi), std::cos(phi)}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) a_[i][j] = d[i] * r[i][j];
}

Tensor SineProblem::forward(const Tensor& x) const {
  check_batch(x, Tensor(), "forward");
  const Tensor a = from_vector({a_[0][0], a_[0][1], a_[1][0], a_[1][1]}, {2, 2}, DType::f64, x.device());
  const Tensor u = matmul(x, transpose(a));
  return concat({sin(slice(u, 1, 0, 1)), slice(u, 1, 1, 2)}, 1);
}

Tensor SineProblem::gradient(const Tensor& x, const Tensor& target) const {
  check_batch(x, target, "gradient");
  const std::vector<double> xs = x.to_vector<double>(), ys = target.to_vector<double>();
  std::vector<double> g(xs.size());
  for (std::size_t b = 0; b < xs.size() / 2; ++b) {
    const double u1 = a_[0][0] * xs[2 * b] + a_[0][1] * xs[2 * b + 1];
    const double u2 = a_[1][0] * xs[2 * b] + a_[1][1] * xs[2 * b + 1];
    const double e1 = (std::sin(u1) - ys[2 * b]) * std::cos(u1), e2 = u2 - ys[2 * b + 1];
    for (int j = 0; j < 2; ++j) g[2 * b + j] = a_[0][j] * e1 + a_[1][j] * e2;
  }
  return from_vector(g, x.shape(), DType::f64, x.device());
}

Tensor SineProblem::hessian(const Tensor& x, const Tensor& target) const {
  check_batch(x, target, "hessian");
  const std::vector<double> xs = x.to_vector<double>(), ys = target.to_vector<double>();
  const std::int64_t batch = x.size(0);
  std::vector<double> h(4 * batch);
  for (std::int64_t b = 0; b < batch; ++b) {
    const double u1 = a_[0][0] * xs[2 * b] + a_[0][1] * xs[2 * b + 1];
    const double r1 = std::sin(u1) - ys[2 * b];
    const double c1 = std::cos(u1) * std::cos(u1) - r1 * std::sin(u1);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) h[4 * b + 2 * i + j] = c1 * a_[0][i] * a_[0][j] + a_[1][i] * a_[1][j];
  }
  return from_vector(h, {batch, 2, 2}, DType::f64, x.device());
}

Tensor SineProblem::inverse_update(const Tensor& x, const Tensor&, const Tensor& target) const {
  optim::SaddleFreeOptions options;
  options.max_loss_change = max_loss_change_;
  return optim::saddle_free_newton_direction(gradient(x, target), hessian(x, target), options);
}

std::vector<double> SineProblem::distance_to_solution(const Tensor& x, const Tensor& target) const {
  check_batch(x, target, "distance_to_solution");
  const std::vector<double> xs = x.to_vector<double>(), ys = target.to_vector<double>();
  const double det = a_[0][0] * a_[1][1] - a_[0][1] * a_[1][0];
  std::vector<double> distances(xs.size() / 2);
  for (std::size_t b = 0; b < distances.size(); ++b) {
    const double u1 = a_[0][0] * xs[2 * b] + a_[0][1] * xs[2 * b + 1];
    double best_u1 = 0, best_offset = INFINITY;
    for (const double base : {std::asin(ys[2 * b]), kPi - std::asin(ys[2 * b])}) {
      const double turns = (u1 - base) / (2 * kPi), n = std::round(turns);
      if (std::abs(n - turns) < best_offset) {
        best_offset = std::abs(n - turns);
        best_u1 = base + 2 * kPi * n;
      }
    }
    const double u2 = ys[2 * b + 1];
    const double x1 = (a_[1][1] * best_u1 - a_[0][1] * u2) / det;
    const double x2 = (-a_[1][0] * best_u1 + a_[0][0] * u2) / det;
    distances[b] = std::hypot(xs[2 * b] - x1, xs[2 * b + 1] - x2);
  }
  return distances;
}

}  // namespace dphys::app
