// SIP and end-to-end training against updates computed independently.
#include <cmath>

#include "optim/sgd.h"
#include "optim/trainers.h"
#include "solvers/linear_solve.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::max_abs_diff;

namespace {

// A "network" whose output is its own parameter, whatever the input: training it is optimising x directly.
class FreeVariables : public nn::Module {
 public:
  explicit FreeVariables(const Tensor& initial) : x(register_parameter("x", initial.clone())) {}
  Tensor forward(const Tensor&) override { return x; }
  Tensor x;
};

// P(x) = x Aᵀ per example (x [B, 3]); the exact inverse update solves A Δx = y* − A x.
class LinearProblem : public optim::PhysicsProblem {
 public:
  explicit LinearProblem(Tensor a) : a_(std::move(a)) {}
  Tensor forward(const Tensor& x) const override { return matmul(x, transpose(a_)); }
  Tensor inverse_update(const Tensor& x, const Tensor& y, const Tensor& target) const override {
    // A is upper triangular: back substitution, written out for the 3×3 case.
    const auto r = (target - y).to_vector<double>();
    const auto m = a_.to_vector<double>();
    std::vector<double> dx(r.size());
    for (std::size_t b = 0; b < r.size() / 3; ++b) {
      const double* rb = &r[3 * b];
      double* d = &dx[3 * b];
      d[2] = rb[2] / m[8];
      d[1] = (rb[1] - m[5] * d[2]) / m[4];
      d[0] = (rb[0] - m[1] * d[1] - m[2] * d[2]) / m[0];
    }
    return from_vector(dx, x.shape(), DType::f64);
  }

 private:
  Tensor a_;
};

// P(x) = x³ elementwise; the exact inverse is the cube root.
class CubeProblem : public optim::PhysicsProblem {
 public:
  Tensor forward(const Tensor& x) const override { return x * x * x; }
  Tensor inverse_update(const Tensor& x, const Tensor&, const Tensor& target) const override {
    std::vector<double> t = target.to_vector<double>();
    for (double& v : t) v = std::cbrt(v);
    return from_vector(t, x.shape(), DType::f64) - x;
  }
};

const Tensor kA = from_vector({2, 1, -1, 0, 3, 0.5, 0, 0, 1.5}, {3, 3}, DType::f64);

}  // namespace

TEST_CASE("SIP with an exact inverse on a linear problem takes the Newton step") {
  Generator gen(1);
  const Tensor x0 = normal({4, 3}, 0, 1, gen, DType::f64), target = normal({4, 3}, 0, 1, gen, DType::f64);
  const LinearProblem problem(kA);
  // The Newton step −H⁻¹∇L of L(x) = Σ_b ½‖A x_b − y*_b‖², by CG on Hessian-vector products.
  const UnaryFunction total_loss = [&](const Tensor& x) {
    return sum(problem.loss(problem.forward(x), target));
  };
  const Tensor g = grad(total_loss, x0);
  CgOptions options;
  options.rel_tol = 1e-14;
  const LinearOperator hessian = [&](const Tensor& v) {
    return reshape(hvp(total_loss, x0, reshape(v, {4, 3})), {1, 12});
  };
  const Tensor newton = neg(conjugate_gradient(hessian, reshape(g, {1, 12}), Tensor(), options).x);
  FreeVariables network(x0);
  optim::SGD sgd(network.parameters(), {1.0});
  optim::SipTrainer trainer(network, problem, sgd);
  const optim::StepReport report = trainer.step(zeros({4, 1}, DType::f64), target);
  // With a sum-reduced proxy, SGD at rate 1 moves x by exactly Δx.
  CHECK(max_abs_diff(network.x - x0, reshape(newton, {4, 3})) < 1e-10);
  CHECK(max_abs_diff(problem.forward(network.x), target) < 1e-10);
  CHECK(report.loss == doctest::Approx(total_loss(x0).item()));
  CHECK(report.proxy_loss == doctest::Approx(0.5 * sum(newton * newton).item()));
}

TEST_CASE("end-to-end training backpropagates through the physics") {
  Generator gen(2);
  const Tensor x0 = normal({2, 3}, 0, 1, gen, DType::f64), target = normal({2, 3}, 0, 1, gen, DType::f64);
  const LinearProblem problem(kA);
  FreeVariables network(x0);
  optim::SGD sgd(network.parameters(), {0.1});
  optim::EndToEndTrainer trainer(network, problem, sgd, optim::BatchReduction::mean);
  trainer.step(zeros({2, 1}, DType::f64), target);
  // ∇ of mean_b ½‖A x_b − y*_b‖² is (A x_b − y*_b) A / B, by hand.
  const Tensor expected = x0 - 0.1 * matmul(matmul(x0, transpose(kA)) - target, kA) / 2.0;
  CHECK(max_abs_diff(network.x, expected) < 1e-12);
}

TEST_CASE("SIP with several solver steps and mean reduction on a nonlinear problem") {
  const Tensor x0 = from_vector({0.5, 2.0, -1.0, 1.0}, {2, 2}, DType::f64);
  const Tensor target = from_vector({8.0, 1.0, -27.0, 0.125}, {2, 2}, DType::f64);
  const CubeProblem problem;
  FreeVariables network(x0);
  // Mean over a batch of 2: the proxy gradient is −Δx / 2, so SGD at rate 2 lands on x̃.
  optim::SGD sgd(network.parameters(), {2.0});
  optim::SipOptions options;
  options.reduction = optim::BatchReduction::mean;
  options.solver_steps = 2;  // the exact inverse is idempotent: the second step adds nothing
  optim::SipTrainer trainer(network, problem, sgd, options);
  trainer.step(zeros({2, 1}, DType::f64), target);
  CHECK(max_abs_diff(network.x, from_vector({2.0, 1.0, -3.0, 0.5}, {2, 2}, DType::f64)) < 1e-14);
}
