// HIG (optim/hig.h) and the dense factorisations under it (engine/linalg.h), against matrices whose SVD is
// built by hand from Householder reflections and against a linear network whose Jacobian is known in closed
// form.
#include <cmath>
#include <vector>

#include "engine/linalg.h"
#include "nn/architectures.h"
#include "optim/hig.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::optim;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

// A dense row-major matrix of doubles for computing expected values by hand.
struct Matrix {
  std::int64_t rows, cols;
  std::vector<double> a;
  Matrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), a(r * c, 0.0) {}
  double& operator()(std::int64_t i, std::int64_t j) { return a[i * cols + j]; }
  double operator()(std::int64_t i, std::int64_t j) const { return a[i * cols + j]; }
  Tensor tensor() const { return from_vector(a, {rows, cols}, DType::f64); }
};

Matrix product(const Matrix& x, const Matrix& y, bool transpose_y = false) {
  const std::int64_t n = transpose_y ? y.rows : y.cols, inner = transpose_y ? y.cols : y.rows;
  REQUIRE(x.cols == inner);
  Matrix out(x.rows, n);
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t k = 0; k < inner; ++k) out(i, j) += x(i, k) * (transpose_y ? y(j, k) : y(k, j));
  return out;
}

Matrix from_tensor(const Tensor& t) {
  REQUIRE(t.dim() == 2);
  Matrix m(t.size(0), t.size(1));
  m.a = cast(t, DType::f64).to_vector<double>();
  return m;
}

// The orthogonal reflection I − 2hhᵀ/hᵀh.
Matrix householder(const std::vector<double>& h) {
  const std::int64_t n = static_cast<std::int64_t>(h.size());
  double hh = 0;
  for (double v : h) hh += v * v;
  Matrix q(n, n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) q(i, j) = (i == j) - 2 * h[i] * h[j] / hh;
  return q;
}

// Σ_k s_k u_k v_kᵀ with u_k, v_k the first columns of the orthogonal u and v: a matrix with known SVD.
Matrix with_singular_values(const Matrix& u, const std::vector<double>& s, const Matrix& v) {
  Matrix out(u.rows, v.rows);
  for (std::size_t k = 0; k < s.size(); ++k)
    for (std::int64_t i = 0; i < u.rows; ++i)
      for (std::int64_t j = 0; j < v.rows; ++j) out(i, j) += s[k] * u(i, k) * v(j, k);
  return out;
}

// Σ_{k kept} s_k^κ (u_kᵀ y) v_k.
std::vector<double> power_by_hand(const Matrix& u, const std::vector<double>& s, const Matrix& v,
                                  const std::vector<double>& y, double kappa, const std::vector<bool>& kept) {
  std::vector<double> out(v.rows, 0.0);
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (!kept[k]) continue;
    double projection = 0;
    for (std::int64_t i = 0; i < u.rows; ++i) projection += u(i, k) * y[i];
    for (std::int64_t j = 0; j < v.rows; ++j) out[j] += std::pow(s[k], kappa) * projection * v(j, k);
  }
  return out;
}

Tensor vector_tensor(const std::vector<double>& v) {
  return from_vector(v, {static_cast<std::int64_t>(v.size())}, DType::f64);
}

Matrix identity(std::int64_t n) {
  Matrix m(n, n);
  for (std::int64_t i = 0; i < n; ++i) m(i, i) = 1;
  return m;
}

void check_orthonormal_columns(const Tensor& q, double tolerance) {
  const Matrix m = from_tensor(q);
  Matrix qtq(m.cols, m.cols);
  for (std::int64_t i = 0; i < m.cols; ++i)
    for (std::int64_t j = 0; j < m.cols; ++j)
      for (std::int64_t k = 0; k < m.rows; ++k) qtq(i, j) += m(k, i) * m(k, j);
  CHECK(max_abs_diff(qtq.tensor(), identity(m.cols).tensor()) < tolerance);
}

// u · diag(s) · vᵀ.
Tensor reconstruct(const kernel::Svd& f) {
  Matrix us = from_tensor(f.u);
  const std::vector<double> s = cast(f.s, DType::f64).to_vector<double>();
  for (std::int64_t i = 0; i < us.rows; ++i)
    for (std::int64_t k = 0; k < us.cols; ++k) us(i, k) *= s[k];
  return product(us, from_tensor(f.v), true).tensor();
}

// The toy problem's "physics" (hig.md §2.1): each output component scaled by its own factor, y = γ ⊙ u.
class Scaling : public PhysicsProblem {
 public:
  explicit Scaling(std::vector<double> gamma) : gamma_(std::move(gamma)) {}
  Tensor forward(const Tensor& u) const override {
    return u * from_vector(gamma_, {static_cast<std::int64_t>(gamma_.size())}, u.dtype());
  }
  double gamma(std::size_t i) const { return gamma_[i]; }

 private:
  std::vector<double> gamma_;
};

const HigPhysics kIdentity = [](const Tensor& u, const Tensor&) { return u; };

}  // namespace

TEST_CASE("svd reconstructs f64 and f32 matrices, wide and tall, with orthonormal factors") {
  Generator gen(3);
  for (const Shape& shape : {Shape{7, 4}, Shape{4, 7}, Shape{5, 5}}) {
    const Tensor a = uniform(shape, -1, 1, gen, DType::f64);
    const kernel::Svd f = kernel::svd(a);
    const std::int64_t k = std::min(shape[0], shape[1]);
    CHECK(f.u.shape() == Shape{shape[0], k});
    CHECK(f.s.shape() == Shape{k});
    CHECK(f.v.shape() == Shape{shape[1], k});
    CHECK(max_abs_diff(reconstruct(f), a) < 1e-12);
    check_orthonormal_columns(f.u, 1e-12);
    check_orthonormal_columns(f.v, 1e-12);
    const std::vector<double> s = f.s.to_vector<double>();
    for (std::int64_t i = 0; i + 1 < k; ++i) CHECK(s[i] >= s[i + 1]);
    CHECK(s.back() >= 0);

    const Tensor a32 = cast(a, DType::f32);
    const kernel::Svd f32 = kernel::svd(a32);
    CHECK(f32.s.dtype() == DType::f32);
    CHECK(max_abs_diff(reconstruct(f32), a32) < 1e-5);
  }
}

TEST_CASE("svd of [[3, 0], [4, 5]] matches the hand computation") {
  // AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5 with eigenvectors (1, 1)/√2 and (1, −1)/√2;
  // u_k = A v_k / s_k gives (1, 3)/√10 and (3, −1)/√10.
  const kernel::Svd f = kernel::svd(from_vector({3, 0, 4, 5}, {2, 2}, DType::f64));
  const std::vector<double> s = f.s.to_vector<double>(), u = f.u.to_vector<double>(),
                            v = f.v.to_vector<double>();
  CHECK(s[0] == doctest::Approx(std::sqrt(45.0)).epsilon(1e-14));
  CHECK(s[1] == doctest::Approx(std::sqrt(5.0)).epsilon(1e-14));
  // Columns are determined up to a common sign per pair: compare u_k · expected and v_k · expected.
  const double r2 = std::sqrt(2.0), r10 = std::sqrt(10.0);
  const double v0 = (v[0] + v[2]) / r2, v1 = (v[1] - v[3]) / r2;
  const double u0 = (u[0] + 3 * u[2]) / r10, u1 = (3 * u[1] - u[3]) / r10;
  CHECK(std::abs(v0) == doctest::Approx(1).epsilon(1e-14));
  CHECK(std::abs(v1) == doctest::Approx(1).epsilon(1e-14));
  CHECK(u0 * v0 == doctest::Approx(1).epsilon(1e-14));
  CHECK(u1 * v1 == doctest::Approx(1).epsilon(1e-14));
}

TEST_CASE("eigh reconstructs a symmetric matrix, ascending, reading only the lower triangle") {
  Generator gen(4);
  const Matrix b = from_tensor(uniform({6, 6}, -1, 1, gen, DType::f64));
  Matrix sym(6, 6), lower_only(6, 6);
  for (std::int64_t i = 0; i < 6; ++i)
    for (std::int64_t j = 0; j < 6; ++j) {
      sym(i, j) = b(i, j) + b(j, i);
      lower_only(i, j) = i >= j ? sym(i, j) : 100.0;
    }
  const kernel::Eigh e = kernel::eigh(lower_only.tensor());
  const std::vector<double> w = e.eigenvalues.to_vector<double>();
  for (std::size_t i = 0; i + 1 < w.size(); ++i) CHECK(w[i] <= w[i + 1]);
  check_orthonormal_columns(e.eigenvectors, 1e-12);
  Matrix qw = from_tensor(e.eigenvectors);
  for (std::int64_t i = 0; i < 6; ++i)
    for (std::int64_t k = 0; k < 6; ++k) qw(i, k) *= w[k];
  CHECK(max_abs_diff(product(qw, from_tensor(e.eigenvectors), true).tensor(), sym.tensor()) < 1e-12);

  // [[2, 1], [1, 2]]: eigenvalues 1 and 3 with eigenvectors (1, −1)/√2 and (1, 1)/√2.
  const kernel::Eigh h = kernel::eigh(from_vector({2, 1, 1, 2}, {2, 2}, DType::f64));
  const std::vector<double> hw = h.eigenvalues.to_vector<double>(), q = h.eigenvectors.to_vector<double>();
  CHECK(hw[0] == doctest::Approx(1).epsilon(1e-14));
  CHECK(hw[1] == doctest::Approx(3).epsilon(1e-14));
  CHECK(std::abs(q[0] - q[2]) / std::sqrt(2.0) == doctest::Approx(1).epsilon(1e-14));
  CHECK(std::abs(q[1] + q[3]) / std::sqrt(2.0) == doctest::Approx(1).epsilon(1e-14));
}

TEST_CASE("gram equals a · aᵀ and is exactly symmetric across tiles") {
  Generator gen(5);
  const Tensor a = uniform({300, 9}, -1, 1, gen, DType::f64);  // two tile rows of 256
  const Tensor g = kernel::gram(a);
  CHECK(max_abs_diff(g, matmul(a, transpose(a))) < 1e-13);
  CHECK(max_abs_diff(g, transpose(g)) == 0.0);
}

TEST_CASE("the factorisations name the op, the shape and the problem in their errors") {
  CHECK(contains(error_message([] { kernel::svd(zeros({4}, DType::f64)); }), "svd: expected a real matrix"));
  CHECK(contains(error_message([] { kernel::svd(from_indices({1, 2, 3, 4}, {2, 2})); }), "i64"));
  CHECK(contains(error_message([] { kernel::eigh(zeros({2, 3}, DType::f64)); }), "eigh: expected a square"));
  CHECK(contains(error_message([] { kernel::gram(zeros({0, 3}, DType::f64)); }), "gram: empty matrix"));
  const Tensor nan = from_vector({1, std::nan(""), 0, 1}, {2, 2}, DType::f64);
  CHECK(
      contains(error_message([&] { kernel::svd(nan); }), "svd: the f64 matrix of shape [2, 2] contains NaN"));
  CHECK(contains(error_message([&] { kernel::eigh(nan); }), "NaN"));
  CHECK(contains(error_message([] {
                   apply_jacobian_power(zeros({3, 4}, DType::f64), zeros({4}, DType::f64));
                 }),
                 "expected a real vector [3]"));
}

TEST_CASE("apply_jacobian_power on a matrix with known SVD: κ = −1/2, κ = 1 is Jᵀv, scaling, both routes") {
  const Matrix u = householder({1, -2, 0.5, 3}), v = householder({0.3, 1, -1, 2, 0.5, -0.7});
  const std::vector<double> s{3, 1, 0.25, 0.1};
  const Matrix j = with_singular_values(u, s, v);
  const std::vector<double> y{0.7, -1.1, 0.4, 2.0};
  const std::vector<bool> all(4, true);
  for (HigSolver solver : {HigSolver::svd, HigSolver::gram}) {
    JacobianPowerOptions o;
    o.truncation = 0;
    o.solver = solver;
    const JacobianPower half = apply_jacobian_power(j.tensor(), vector_tensor(y), o);
    CHECK(half.solver == solver);
    CHECK(half.kept == 4);
    CHECK(max_abs_diff(half.singular_values, vector_tensor(s)) < 1e-13);
    CHECK(max_abs_diff(half.result, vector_tensor(power_by_hand(u, s, v, y, -0.5, all))) < 1e-12);

    o.kappa = 1;
    const JacobianPower gradient = apply_jacobian_power(j.tensor(), vector_tensor(y), o);
    CHECK(max_abs_diff(gradient.result, reshape(matmul(unsqueeze(vector_tensor(y), 0), j.tensor()), {6})) <
          1e-12);

    // J → cJ scales the HIG direction by c^(−1/2) (hig.md §1.2).
    o.kappa = -0.5;
    const JacobianPower scaled = apply_jacobian_power(j.tensor() * 16.0, vector_tensor(y), o);
    CHECK(max_abs_diff(scaled.result, half.result * 0.25) < 1e-12);

    // β = −1 − κ normalises the largest mode: s₁^β = 3^(−1/2).
    o.beta = -0.5;
    const JacobianPower normalised = apply_jacobian_power(j.tensor(), vector_tensor(y), o);
    CHECK(max_abs_diff(normalised.result, half.result / std::sqrt(3.0)) < 1e-12);
  }
}

TEST_CASE("truncation drops exactly the modes with s ≤ τ·s₁ (or s ≤ τ when absolute)") {
  const Matrix u = householder({1, -2, 0.5, 3}), v = householder({0.3, 1, -1, 2, 0.5, -0.7});
  const std::vector<double> s{10, 0.1, 1e-3, 1e-5};
  const Matrix j = with_singular_values(u, s, v);
  const std::vector<double> y{0.7, -1.1, 0.4, 2.0};
  struct Case {
    double tau;
    bool absolute;
    std::vector<bool> kept;
  };
  // Relative 1.0000001e-2 sits just above s₂/s₁ = 1e-2; absolute 0.05 keeps 10 and 0.1 where relative 0.05
  // (threshold 0.5) keeps only 10.
  const std::vector<Case> cases{{0, false, {true, true, true, true}},
                                {2e-6, false, {true, true, true, false}},
                                {1.0000001e-2, false, {true, false, false, false}},
                                {0.9999999e-2, false, {true, true, false, false}},
                                {0.05, true, {true, true, false, false}},
                                {0.05, false, {true, false, false, false}}};
  for (const Case& c : cases) {
    JacobianPowerOptions o;
    o.truncation = c.tau;
    o.absolute_truncation = c.absolute;
    o.solver = HigSolver::svd;
    const JacobianPower p = apply_jacobian_power(j.tensor(), vector_tensor(y), o);
    std::int64_t expected_kept = 0;
    for (bool k : c.kept) expected_kept += k;
    CHECK(p.kept == expected_kept);
    const std::vector<double> expected = power_by_hand(u, s, v, y, -0.5, c.kept);
    // A dropped mode would contribute s^(−1/2) ≥ 3 times its projection: a wrong mask shows.
    CHECK(max_abs_diff(p.result, vector_tensor(expected)) < 1e-8);
  }
}

TEST_CASE("the J·Jᵀ route equals the direct SVD route, and automatic picks by shape and τ") {
  Generator gen(6);
  const Tensor j = uniform({20, 100}, -1, 1, gen, DType::f64), y = uniform({20}, -1, 1, gen, DType::f64);
  JacobianPowerOptions o;
  o.solver = HigSolver::svd;
  const JacobianPower by_svd = apply_jacobian_power(j, y, o);
  o.solver = HigSolver::gram;
  const JacobianPower by_gram = apply_jacobian_power(j, y, o);
  CHECK(by_svd.kept == 20);
  CHECK(by_gram.kept == 20);
  CHECK(max_abs_diff(by_svd.singular_values, by_gram.singular_values) <
        1e-10 * max_abs(by_svd.singular_values));
  CHECK(max_abs_diff(by_svd.result, by_gram.result) < 1e-10 * max_abs(by_svd.result));

  o.solver = HigSolver::automatic;
  CHECK(apply_jacobian_power(j, y, o).solver == HigSolver::gram);                  // 4·20 ≤ 100
  CHECK(apply_jacobian_power(slice(j, 1, 0, 60), y, o).solver == HigSolver::svd);  // 80 > 60
  o.truncation = 1e-8;                                                             // below √(20ε)
  CHECK(apply_jacobian_power(j, y, o).solver == HigSolver::svd);
  // Above √(4ε) = 3e-8 for 4 rows but below 30√ε = 4.5e-7: the Gram route would keep modes 1% off.
  o.truncation = 3.1e-8;
  CHECK(apply_jacobian_power(slice(j, 0, 0, 4), slice(y, 0, 0, 4), o).solver == HigSolver::svd);
}

TEST_CASE("HIG: NaN or Inf in the vector, the loss or the learning rate is an error") {
  Generator gen(8);
  const Tensor j = uniform({4, 20}, -1, 1, gen, DType::f64);
  CHECK(contains(error_message([&] {
                   apply_jacobian_power(j, from_vector({1.0, NAN, 0.0, 0.0}, {4}, DType::f64));
                 }),
                 "apply_jacobian_power: the vector of shape [4] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   apply_jacobian_power(j, from_vector({1.0, 0.0, INFINITY, 0.0}, {4}, DType::f64));
                 }),
                 "contains NaN or Inf"));
}

TEST_CASE("a HIG step on a linear network equals V Λ^κ Uᵀ Δy from the closed-form Jacobian") {
  // One bias-free Linear layer W [2, 3] and the physics y = γ ⊙ u: row (b, o) of J is γ_o x_bᵀ in the
  // columns of W's row o, so J is block diagonal with blocks γ_o X, and J^κ Δy gives row o of ΔW as
  // Σ_j (γ_o s_j)^κ (u_jᵀ Δy_{:,o}) v_j from X = Σ_j s_j u_j v_jᵀ.
  const Matrix ux = householder({1, 2, -1, 0.5}), vx = householder({2, -1, 0.4});
  const std::vector<double> sx{2, 1, 0.5};
  const Matrix x = with_singular_values(ux, sx, vx);  // [4, 3]
  const Scaling physics({1, 0.1});
  Generator gen(7);
  const Tensor target = uniform({4, 2}, -1, 1, gen, DType::f64);
  const double lr = 0.7;
  for (HigSolver solver : {HigSolver::svd, HigSolver::gram}) {
    nn::Linear net(3, 2, gen, false, DType::f64);
    const Matrix w0 = from_tensor(net.weight.detach().clone());
    const Matrix y0 = product(x, w0, true);
    HigOptions o;
    o.lr = lr;
    o.reduction = BatchReduction::sum;
    o.power.truncation = 0;
    o.power.solver = solver;
    HigTrainer trainer(net, physics, o);
    const HigReport report = trainer.step(x.tensor(), target);

    Matrix expected = w0;
    const Matrix t = from_tensor(target);
    double loss = 0;
    for (std::int64_t out = 0; out < 2; ++out) {
      std::vector<double> dy(4), s(3);
      for (std::int64_t b = 0; b < 4; ++b) {
        const double yb = physics.gamma(out) * y0(b, out);
        dy[b] = t(b, out) - yb;
        loss += 0.5 * dy[b] * dy[b];
      }
      for (int k = 0; k < 3; ++k) s[k] = physics.gamma(out) * sx[k];
      const std::vector<double> dw = power_by_hand(ux, s, vx, dy, -0.5, {true, true, true});
      for (std::int64_t i = 0; i < 3; ++i) expected(out, i) += lr * dw[i];
    }
    CHECK(max_abs_diff(net.weight, expected.tensor()) < 1e-12);
    CHECK(report.loss == doctest::Approx(loss).epsilon(1e-14));
    CHECK(report.rows == 8);
    CHECK(report.kept == 6);
    CHECK(report.largest_singular_value == doctest::Approx(2).epsilon(1e-13));
    CHECK(report.smallest_kept_singular_value == doctest::Approx(0.05).epsilon(1e-11));
    double step_squared = 0;
    for (std::size_t i = 0; i < expected.a.size(); ++i)
      step_squared += (expected.a[i] - w0.a[i]) * (expected.a[i] - w0.a[i]);
    CHECK(report.update_norm == doctest::Approx(std::sqrt(step_squared)).epsilon(1e-12));
  }
}

TEST_CASE(
    "κ = −1 is Gauss–Newton: exact fit when J has full row rank, least squares when it has full column "
    "rank") {
  const Scaling physics({1, 0.1});
  Generator gen(8);
  // Two examples, six weights: four equations J Δθ = Δy with a solution; GN with η = 1 solves them.
  {
    nn::Linear net(3, 2, gen, false, DType::f64);
    const Tensor x = uniform({2, 3}, -1, 1, gen, DType::f64),
                 target = uniform({2, 2}, -1, 1, gen, DType::f64);
    HigOptions o;
    o.reduction = BatchReduction::sum;
    o.power.kappa = -1;
    o.power.truncation = 0;
    HigTrainer(net, physics, o).step(x, target);
    CHECK(max_abs_diff(physics.forward(net(x)), target) < 1e-12);
  }
  // Five examples: ten equations for six weights; the step lands on the normal equations
  // Xᵀ(γ_o X w_o − ŷ_o) = 0 of every output o.
  {
    nn::Linear net(3, 2, gen, false, DType::f64);
    const Tensor x = uniform({5, 3}, -1, 1, gen, DType::f64),
                 target = uniform({5, 2}, -1, 1, gen, DType::f64);
    HigOptions o;
    o.reduction = BatchReduction::sum;
    o.power.kappa = -1;
    o.power.truncation = 0;
    HigTrainer(net, physics, o).step(x, target);
    const Tensor residual = physics.forward(net(x)) - target;
    CHECK(max_abs(matmul(transpose(x), residual)) < 1e-12);
    CHECK(max_abs(residual) > 1e-3);  // not an exact fit: the assertion above is the least-squares one
  }
}

TEST_CASE("the stacked Jacobian equals dphys::jacobian row by row on a small MLP, by either method") {
  Generator gen(9);
  nn::MlpOptions mlp;
  mlp.activation = nn::Activation::tanh;
  auto net = nn::make_mlp(3, {5}, 2, gen, mlp, DType::f64);
  const std::vector<Tensor> params =
      net->parameters();  // 0.weight [5, 3], 0.bias [5], 2.weight [2, 5], 2.bias [2]
  std::vector<Tensor> flat;
  for (const Tensor& p : params) flat.push_back(flatten(p.detach()));
  const Tensor theta = concat(flat, 0);
  REQUIRE(theta.numel() == 32);
  const Tensor x = uniform({4, 3}, -1, 1, gen, DType::f64);
  // A nonlinear physics stage that mixes an example's outputs: y = (u₀·u₁, sin u₁, u₀).
  const HigPhysics physics = [](const Tensor& u, const Tensor&) {
    const Tensor u0 = slice(u, 1, 0, 1), u1 = slice(u, 1, 1, 2);
    return concat({u0 * u1, sin(u1), u0}, 1);
  };
  const StackedJacobian per_example =
      stacked_jacobian(*net, physics, x, Tensor(), JacobianMethod::per_example);
  const StackedJacobian whole_batch =
      stacked_jacobian(*net, physics, x, Tensor(), JacobianMethod::whole_batch);
  REQUIRE(per_example.jacobian.shape() == Shape{12, 32});
  CHECK(max_abs_diff(per_example.jacobian, whole_batch.jacobian) < 1e-14);
  CHECK(max_abs_diff(per_example.output, physics(net->forward(x), Tensor())) < 1e-15);

  for (std::int64_t b = 0; b < 4; ++b) {
    // The same network written out as a function of the flat θ.
    const Tensor xb = slice(x, 0, b, b + 1);
    const Tensor reference = jacobian(
        [&](const Tensor& t) {
          const Tensor w1 = reshape(slice(t, 0, 0, 15), {5, 3}), b1 = slice(t, 0, 15, 20);
          const Tensor w2 = reshape(slice(t, 0, 20, 30), {2, 5}), b2 = slice(t, 0, 30, 32);
          const Tensor u = matmul(tanh(matmul(xb, transpose(w1)) + b1), transpose(w2)) + b2;
          return physics(u, Tensor());
        },
        theta);  // [1, 3, 32]
    CHECK(max_abs_diff(reshape(reference, {3, 32}), slice(per_example.jacobian, 0, 3 * b, 3 * b + 3)) <
          1e-14);
  }
}

TEST_CASE("examples coupled by BatchNorm take the whole-batch Jacobian; per_example refuses them") {
  Generator gen(10);
  nn::MlpOptions mlp;
  mlp.batch_norm = true;
  auto net = nn::make_mlp(2, {4}, 1, gen, mlp, DType::f64);
  const Tensor x = uniform({3, 2}, -1, 1, gen, DType::f64);
  CHECK(contains(
      error_message([&] { stacked_jacobian(*net, kIdentity, x, Tensor(), JacobianMethod::per_example); }),
      "coupled"));
  const StackedJacobian automatic = stacked_jacobian(*net, kIdentity, x);
  const StackedJacobian whole = stacked_jacobian(*net, kIdentity, x, Tensor(), JacobianMethod::whole_batch);
  CHECK(max_abs_diff(automatic.jacobian, whole.jacobian) == 0.0);
  net->eval();
  CHECK(max_abs_diff(stacked_jacobian(*net, kIdentity, x, Tensor(), JacobianMethod::per_example).jacobian,
                     stacked_jacobian(*net, kIdentity, x, Tensor(), JacobianMethod::whole_batch).jacobian) <
        1e-14);
}

TEST_CASE("the physics sees each example's state with its slice of the input") {
  Generator gen(11);
  nn::Linear net(2, 2, gen, false, DType::f64);
  const Tensor x = uniform({3, 2}, -1, 1, gen, DType::f64), state = uniform({3, 2}, 1, 2, gen, DType::f64);
  const HigPhysics physics = [](const Tensor& u, const Tensor& s) { return u * s; };
  const StackedJacobian j = stacked_jacobian(net, physics, x, state, JacobianMethod::per_example);
  CHECK(max_abs_diff(j.jacobian,
                     stacked_jacobian(net, physics, x, state, JacobianMethod::whole_batch).jacobian) < 1e-15);
  CHECK(max_abs_diff(j.output, net(x) * state) < 1e-15);
}

TEST_CASE("HIG steps lower the loss of a small nonlinear fit at every step") {
  // The toy network of hig.md §2.1 (1 → 7 tanh → 2, Glorot weights) on 64 points with smooth targets
  // (sin 2x, cos 3x), mean loss, η = 1, τ = 1e-6. With c_b = 1/b a mode's output moves by η·s^(1/2)/b of its
  // residual per step, so the loss falls steadily rather than at once.
  Generator gen(0);
  auto net = nn::make_hig_toy_mlp(gen, DType::f64);
  const Tensor x = reshape(linspace(-1, 1, 64, DType::f64), {64, 1});
  const Tensor target = concat({sin(2.0 * x), cos(3.0 * x)}, 1);
  const Scaling identity({1, 1});
  HigTrainer trainer(*net, identity);
  std::vector<double> losses;
  for (int step = 0; step < 20; ++step) losses.push_back(trainer.step(x, target).loss);
  for (std::size_t i = 1; i < losses.size(); ++i) CHECK(losses[i] < losses[i - 1]);
  CHECK(losses.back() < 0.5 * losses.front());

  // A NaN target once turned every weight into NaN without an error; now the step refuses and leaves them.
  const Tensor before = net->parameters()[0].clone();
  CHECK(contains(error_message([&] { trainer.step(x, target * NAN); }), "HigTrainer: the loss is nan"));
  CHECK(max_abs_diff(net->parameters()[0], before) == 0.0);
  HigOptions bad;
  bad.lr = NAN;
  CHECK(
      contains(error_message([&] { HigTrainer(*net, identity, bad); }), "learning rate nan must be finite"));
}
