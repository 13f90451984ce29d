// The batched strong-Wolfe line search, BFGS and L-BFGS: Rosenbrock, independent quadratics, NaN regions and
// the per-problem records.
#include <algorithm>
#include <cmath>
#include <limits>

#include "optim/bfgs.h"
#include "optim/line_search.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::optim;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The chained Rosenbrock function Σ_i 100·(x_{i+1} − x_i²)² + (1 − x_i)², one problem per row. Its global
// minimum is x = (1, …, 1) with f = 0.
Tensor rosenbrock(const Tensor& x) {
  const std::int64_t d = x.size(1);
  const Tensor head = slice(x, 1, 0, d - 1), tail = slice(x, 1, 1, d);
  return sum(100.0 * square(tail - square(head)) + square(1.0 - head), {1});
}

// Its gradient written out by hand, for one point.
std::vector<double> rosenbrock_gradient(const std::vector<double>& x) {
  std::vector<double> g(x.size(), 0.0);
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double r = x[i + 1] - x[i] * x[i];
    g[i] += -400.0 * x[i] * r - 2.0 * (1.0 - x[i]);
    g[i + 1] += 200.0 * r;
  }
  return g;
}

// The standard starts: (−1.2, 1) in 2-D (CUTEst ROSENBR) and x_i = i/(d + 1) for the chained form in d
// dimensions (CUTEst GENROSE). From (−1.2, 1, −1.2, 1, …) the chained form can also lead to its local
// minimum near (−1, 1, …, 1) (Kok & Sandrock 2009), a legitimate answer for a local method.
Tensor rosenbrock_start(std::int64_t d) {
  if (d == 2) return from_vector({-1.2, 1.0}, {1, 2}, DType::f64);
  std::vector<double> x(d);
  for (std::int64_t i = 0; i < d; ++i) x[i] = static_cast<double>(i + 1) / static_cast<double>(d + 1);
  return from_vector(x, {1, d}, DType::f64);
}

std::vector<double> row(const Tensor& t, std::int64_t b) {
  const std::int64_t d = t.size(1);
  const std::vector<double> all = cast(t, DType::f64).to_vector<double>();
  return std::vector<double>(all.begin() + b * d, all.begin() + (b + 1) * d);
}

double max_abs(const std::vector<double>& v) {
  double worst = 0.0;
  for (double e : v) worst = std::max(worst, std::abs(e));
  return worst;
}

double norm2(const std::vector<double>& v) {
  double s = 0.0;
  for (double e : v) s += e * e;
  return std::sqrt(s);
}

using Minimizer = std::function<QuasiNewtonResult(const BatchedObjective&, const Tensor&, double gtol)>;

const Minimizer run_bfgs = [](const BatchedObjective& f, const Tensor& x0, double gtol) {
  BfgsOptions options;
  options.gtol = gtol;
  return bfgs_minimize(f, x0, options);
};

const Minimizer run_lbfgs = [](const BatchedObjective& f, const Tensor& x0, double gtol) {
  LbfgsOptions options;
  options.gtol = gtol;
  return lbfgs_minimize(f, x0, options);
};

// ½ (x − c_b)ᵀ A_b (x − c_b) for B problems of dimension d, A_b = Q_b·diag(λ)·Q_b with a Householder
// reflection Q_b (orthogonal and symmetric) and eigenvalues spread evenly over [1, κ_b], κ_b from 1 to 1000.
// With λ_min = 1, ‖x − c_b‖₂ ≤ ‖∇f‖₂.
struct Quadratics {
  Tensor a, c;  // [B, d, d], [B, d]

  Quadratics(std::int64_t batch, std::int64_t d, std::uint64_t seed) {
    Generator gen(seed);
    const std::vector<double> v = normal({batch, d}, 0, 1, gen, DType::f64).to_vector<double>();
    std::vector<double> a_host(batch * d * d);
    for (std::int64_t b = 0; b < batch; ++b) {
      const double kappa = 1.0 + 999.0 * static_cast<double>(b) / static_cast<double>(batch - 1);
      const double* u = v.data() + b * d;
      double uu = 0.0;
      for (std::int64_t i = 0; i < d; ++i) uu += u[i] * u[i];
      std::vector<double> q(d * d);
      for (std::int64_t i = 0; i < d; ++i)
        for (std::int64_t j = 0; j < d; ++j) q[i * d + j] = (i == j ? 1.0 : 0.0) - 2.0 * u[i] * u[j] / uu;
      for (std::int64_t i = 0; i < d; ++i)
        for (std::int64_t j = 0; j < d; ++j) {
          double s = 0.0;
          for (std::int64_t k = 0; k < d; ++k) {
            const double lambda = 1.0 + (kappa - 1.0) * static_cast<double>(k) / static_cast<double>(d - 1);
            s += q[i * d + k] * lambda * q[k * d + j];
          }
          a_host[(b * d + i) * d + j] = s;
        }
    }
    a = from_vector(a_host, {batch, d, d}, DType::f64);
    c = uniform({batch, d}, -3, 3, gen, DType::f64);
  }

  Tensor operator()(const Tensor& x) const { return loss(x, a, c); }

  static Tensor loss(const Tensor& x, const Tensor& a, const Tensor& c) {
    const Tensor r = x - c;
    return 0.5 * sum(r * squeeze(matmul(a, unsqueeze(r, 2)), 2), {1});
  }
};

// ∇f at x by a reverse pass written here, independent of the code under test.
Tensor gradient_of(const BatchedObjective& f, const Tensor& x) {
  return grad([&](const Tensor& z) { return sum(f(z)); }, x);
}

}  // namespace

TEST_CASE("BFGS and L-BFGS minimise 2-D and 100-D Rosenbrock from the standard starts to ‖∇f‖ ≤ 1e-8") {
  for (const std::int64_t d : {2, 100}) {
    for (const bool limited : {false, true}) {
      CAPTURE(d);
      CAPTURE(limited);
      // The infinity-norm tolerance that also bounds the Euclidean norm by 1e-8.
      const double gtol = 1e-8 / std::sqrt(static_cast<double>(d));
      const QuasiNewtonResult r = (limited ? run_lbfgs : run_bfgs)(rosenbrock, rosenbrock_start(d), gtol);
      REQUIRE(r.problems.size() == 1);
      const QuasiNewtonRecord& rec = r.problems[0];
      CHECK(rec.reason == StopReason::converged);
      const std::vector<double> x = row(r.x, 0), g = rosenbrock_gradient(x);
      CHECK(norm2(g) <= 1e-8 * (1 + 1e-6));
      CHECK(max_abs(g) <= gtol * (1 + 1e-6));
      CHECK(rec.grad_norm == doctest::Approx(max_abs(g)).epsilon(1e-6));
      // Near the minimum the Hessian's smallest eigenvalue exceeds 1e-3 for these d, so ‖x − 1‖ ≤ 1e-5.
      for (double xi : x) CHECK(xi == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(rec.loss <= 1e-12);
      CHECK(rec.loss == doctest::Approx(rosenbrock(r.x).item()).epsilon(1e-12));
      MESSAGE(fmt::format("d={} {}: {} iterations, {} evaluations", d, limited ? "L-BFGS" : "BFGS",
                          rec.iterations, rec.evaluations));
    }
  }
}

TEST_CASE("BFGS with SciPy's defaults takes SciPy 1.10's path on 2-D Rosenbrock: nit 32, nfev 39") {
  // jpo.md §3.1's unit check: scipy.optimize.minimize(rosen, [-1.2, 1], jac=rosen_der, method='BFGS').
  const QuasiNewtonResult r = bfgs_minimize(rosenbrock, rosenbrock_start(2));
  const QuasiNewtonRecord& rec = r.problems[0];
  CHECK(rec.reason == StopReason::converged);
  CHECK(rec.iterations == 32);
  CHECK(rec.evaluations == 39);
  for (double xi : row(r.x, 0)) CHECK(std::abs(xi - 1.0) < 1e-7);
}

TEST_CASE("64 shifted quadratics converge independently to their centres, each as if run alone") {
  const std::int64_t batch = 64, d = 8;
  const Quadratics q(batch, d, 7);
  const double gtol = 1e-10;
  for (const bool limited : {false, true}) {
    CAPTURE(limited);
    const Minimizer& run = limited ? run_lbfgs : run_bfgs;
    const QuasiNewtonResult r = run(q, zeros({batch, d}, DType::f64), gtol);
    int fewest = r.problems[0].iterations, most = fewest;
    for (std::int64_t b = 0; b < batch; ++b) {
      CAPTURE(b);
      const QuasiNewtonRecord& rec = r.problems[b];
      CHECK(rec.reason == StopReason::converged);
      CHECK(rec.grad_norm <= gtol);
      fewest = std::min(fewest, rec.iterations);
      most = std::max(most, rec.iterations);
    }
    CHECK(max_abs_diff(r.x, q.c) <= std::sqrt(static_cast<double>(d)) * gtol);
    // The problems finish at different iterations: some stop while others keep going.
    CHECK(fewest < most);
    // Every running problem is evaluated in every round, and none waits for another's line search: the
    // batch takes as many rounds as its most expensive problem.
    int most_evaluations = 0;
    for (const QuasiNewtonRecord& rec : r.problems)
      most_evaluations = std::max(most_evaluations, rec.evaluations);
    CHECK(r.rounds == most_evaluations);
    // Stopped problems are not moved by the rounds that follow: the batch gives each problem exactly what it
    // gets alone.
    for (const std::int64_t b : {std::int64_t{0}, std::int64_t{21}, std::int64_t{63}}) {
      CAPTURE(b);
      const Tensor a_b = slice(q.a, 0, b, b + 1), c_b = slice(q.c, 0, b, b + 1);
      const QuasiNewtonResult alone = run([&](const Tensor& x) { return Quadratics::loss(x, a_b, c_b); },
                                          zeros({1, d}, DType::f64), gtol);
      CHECK(alone.problems[0].iterations == r.problems[b].iterations);
      CHECK(alone.problems[0].evaluations == r.problems[b].evaluations);
      CHECK(max_abs_diff(alone.x, slice(r.x, 0, b, b + 1)) <= 1e-14);
    }
  }
}

TEST_CASE("a subset objective: only running problems are evaluated, and the result is the same") {
  const std::int64_t batch = 64, d = 8;
  const Quadratics q(batch, d, 7);
  for (const bool limited : {false, true}) {
    CAPTURE(limited);
    LbfgsOptions options;
    options.gtol = 1e-10;
    std::int64_t rows_evaluated = 0;
    bool ascending = true;
    const SubsetObjective subset = [&](const Tensor& x, const std::vector<std::int64_t>& rows) {
      rows_evaluated += static_cast<std::int64_t>(rows.size());
      ascending = ascending && std::is_sorted(rows.begin(), rows.end());
      const Tensor index = from_indices(rows, {static_cast<std::int64_t>(rows.size())});
      return Quadratics::loss(x, index_select(q.a, 0, index), index_select(q.c, 0, index));
    };
    const Tensor x0 = zeros({batch, d}, DType::f64);
    const QuasiNewtonResult whole = limited ? lbfgs_minimize(q, x0, options) : bfgs_minimize(q, x0, options);
    const QuasiNewtonResult part =
        limited ? lbfgs_minimize(subset, x0, options) : bfgs_minimize(subset, x0, options);
    CHECK(ascending);
    CHECK(max_abs_diff(part.x, whole.x) <= 1e-14);
    CHECK(part.rounds == whole.rounds);
    std::int64_t evaluations = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
      CHECK(part.problems[b].iterations == whole.problems[b].iterations);
      CHECK(part.problems[b].evaluations == whole.problems[b].evaluations);
      evaluations += part.problems[b].evaluations;
    }
    // Each problem was evaluated exactly as often as its own record says, far fewer than rounds × B.
    CHECK(rows_evaluated == evaluations);
    CHECK(rows_evaluated < part.rounds * batch);
  }
}

TEST_CASE("BFGS works in the input dtype: f32 in, f32 out") {
  const Quadratics q(4, 3, 3);
  const Tensor a = cast(q.a, DType::f32), c = cast(q.c, DType::f32);
  BfgsOptions options;
  options.gtol = 1e-3;
  const QuasiNewtonResult r =
      bfgs_minimize([&](const Tensor& x) { return Quadratics::loss(x, a, c); }, zeros({4, 3}), options);
  CHECK(r.x.dtype() == DType::f32);
  CHECK(r.loss.dtype() == DType::f32);
  for (const QuasiNewtonRecord& rec : r.problems) CHECK(rec.reason == StopReason::converged);
  // λ_min = 1: ‖x − c‖₂ ≤ ‖∇f‖₂ ≤ √3·gtol.
  CHECK(max_abs_diff(r.x, c) <= std::sqrt(3.0) * 1e-3);
}

TEST_CASE("the line search returns steps that satisfy both strong Wolfe conditions") {
  // f(x) = Σ_j (x_j − 2)⁴ + ½ sin(3 x_j) along p = −∇f(0), from first steps that are far too short, about
  // right, and far too long.
  const BatchedObjective f = [](const Tensor& x) {
    return sum(square(square(x - 2.0)) + 0.5 * sin(3.0 * x), {1});
  };
  const std::vector<double> first{1e-3, 0.02, 0.06, 1.0, 10.0};
  const std::int64_t batch = static_cast<std::int64_t>(first.size());
  const Tensor x = zeros({batch, 2}, DType::f64);
  const Tensor g = gradient_of(f, x), p = -g;
  const Tensor loss = f(x);
  for (const double c2 : {0.9, 0.1}) {
    CAPTURE(c2);
    LineSearchOptions options;
    options.c2 = c2;
    const LineSearchResult r =
        line_search_strong_wolfe(f, x, p, loss, g, first, std::vector<bool>(batch, true), options);
    const Tensor x_new = x + from_vector(r.step, {batch, 1}, DType::f64) * p;
    CHECK(max_abs_diff(r.x, x_new) == 0);
    CHECK(max_abs_diff(r.loss, f(x_new)) <= 1e-12);
    CHECK(max_abs_diff(r.grad, gradient_of(f, x_new)) <= 1e-12);
    const std::vector<double> phi0 = loss.to_vector<double>(), phi = f(x_new).to_vector<double>();
    const std::vector<double> dphi0 = sum(g * p, {1}).to_vector<double>();
    const std::vector<double> dphi = sum(gradient_of(f, x_new) * p, {1}).to_vector<double>();
    for (std::int64_t b = 0; b < batch; ++b) {
      CAPTURE(first[b]);
      REQUIRE(r.success[b]);
      CHECK(r.step[b] > 0);
      CHECK(phi[b] <= phi0[b] + options.c1 * r.step[b] * dphi0[b]);
      CHECK(std::abs(dphi[b]) <= c2 * std::abs(dphi0[b]));
      CHECK(r.evaluations[b] >= 1);
      CHECK(r.evaluations[b] <= r.rounds);
    }
    // From α = 1e-3 the step doubles until it first meets both conditions. Per component, x = 30.5·α and
    // f'(x) = 4(x − 2)³ + 1.5·cos 3x = −30.5 at 0. With c2 = 0.9 the curvature condition |f'| ≤ 27.45
    // fails at α = 1e-3 (f' = −29.06) and 2e-3 (−27.69) and holds at 4e-3 (−25.09): 3 trial points. With
    // c2 = 0.1 no α below 0.0405 satisfies it, so the doubling must reach 1e-3·2⁶: at least 7.
    if (c2 == 0.9) {
      CHECK(r.evaluations[0] == 3);
      CHECK(r.step[0] == 4e-3);
    } else {
      CHECK(r.evaluations[0] >= 7);
    }
  }
}

TEST_CASE("the line search skips inactive problems and non-descent directions, and backtracks from NaN") {
  // ½‖x‖², finite only inside ‖x‖_∞ ≤ 0.5: beyond that the loss is NaN (its gradient stays finite).
  const BatchedObjective f = [](const Tensor& x) {
    const Tensor outside = gt(max(abs(x), {1}), scalar(0.5, DType::f64));
    return 0.5 * sum(x * x, {1}) +
           where(outside, full({x.size(0)}, kNaN, DType::f64), zeros({x.size(0)}, DType::f64));
  };
  const Tensor x = from_vector({0.4, -0.2, 0.4, -0.2, 0.4, -0.2}, {3, 2}, DType::f64);
  const Tensor g = gradient_of(f, x), loss = f(x);
  // Along p = −x, φ(α) = ½(1 − α)²‖x‖². Problem 0 tries α = 1 first, the minimum, where φ' = 0; problem 1
  // tries α = 4, at −3x: NaN. Problem 2 gets the ascent direction +x.
  const Tensor p = from_vector({-0.4, 0.2, -0.4, 0.2, 0.4, -0.2}, {3, 2}, DType::f64);
  const LineSearchResult r = line_search_strong_wolfe(f, x, p, loss, g, {1.0, 4.0, 1.0}, {true, true, true});
  CHECK(r.success[0]);
  CHECK(r.success[1]);
  CHECK_FALSE(r.success[2]);
  CHECK(r.evaluations[2] == 0);
  CHECK(r.step[2] == 0);
  CHECK(max_abs_diff(slice(r.x, 0, 2, 3), slice(x, 0, 2, 3)) == 0);
  CHECK(r.evaluations[0] == 1);
  CHECK(r.step[0] == 1);
  CHECK(max_abs(slice(r.x, 0, 0, 1)) == 0);
  // Problem 1 backtracked into the finite region ‖(1 − α)·x‖_∞ ≤ 0.5, i.e. α ≤ 2.25, to a Wolfe point.
  CHECK(r.evaluations[1] >= 2);
  CHECK(r.step[1] <= 2.25);
  CHECK(std::isfinite(r.loss.to_vector<double>()[1]));
  CHECK(r.loss.to_vector<double>()[1] < loss.to_vector<double>()[1]);

  const LineSearchResult idle =
      line_search_strong_wolfe(f, x, p, loss, g, {1.0, 4.0, 1.0}, {false, true, false});
  CHECK_FALSE(idle.success[0]);
  CHECK(idle.evaluations[0] == 0);
  CHECK(max_abs_diff(slice(idle.x, 0, 0, 1), slice(x, 0, 0, 1)) == 0);
  CHECK(idle.step[1] == r.step[1]);
}

TEST_CASE("BFGS and L-BFGS converge on a function that is NaN for large steps") {
  // 5·‖x − c‖² with c = (0.5, 0.5), NaN where ‖x‖_∞ > 0.6. From 0 the first trial step moves 1.01 along
  // −∇f, to (0.714, 0.714): NaN, so the search must backtrack. Problem 1 has no NaN region.
  const Tensor c = full({2, 2}, 0.5, DType::f64);
  const Tensor radius = from_vector({0.6, 1e300}, {2}, DType::f64);
  const BatchedObjective f = [&](const Tensor& x) {
    const Tensor outside = gt(max(abs(x), {1}), radius);
    return 5.0 * sum(square(x - c), {1}) +
           where(outside, full({2}, kNaN, DType::f64), zeros({2}, DType::f64));
  };
  for (const bool limited : {false, true}) {
    CAPTURE(limited);
    const QuasiNewtonResult r = (limited ? run_lbfgs : run_bfgs)(f, zeros({2, 2}, DType::f64), 1e-10);
    for (const QuasiNewtonRecord& rec : r.problems) {
      CHECK(rec.reason == StopReason::converged);
      CHECK(std::isfinite(rec.loss));
    }
    // ∇f = 10 (x − c): ‖x − c‖_∞ ≤ gtol / 10.
    CHECK(max_abs_diff(r.x, c) <= 1e-11);
  }
}

TEST_CASE("the records give iterations, evaluations, loss, gradient norm and stop reason per problem") {
  // Problem 0 starts at the minimum of 2-D Rosenbrock, problem 1 at (−1.2, 1).
  const Tensor x0 = from_vector({1.0, 1.0, -1.2, 1.0}, {2, 2}, DType::f64);
  SUBCASE("max_iterations") {
    BfgsOptions options;
    options.max_iterations = 3;
    const QuasiNewtonResult r = bfgs_minimize(rosenbrock, x0, options);
    const QuasiNewtonRecord &at_min = r.problems[0], &rec = r.problems[1];
    CHECK(at_min.reason == StopReason::converged);
    CHECK(at_min.iterations == 0);
    CHECK(at_min.evaluations == 1);
    CHECK(at_min.loss == 0);
    CHECK(at_min.grad_norm == 0);
    CHECK(rec.reason == StopReason::max_iterations);
    CHECK(rec.iterations == 3);
    // One evaluation at x0 and at least one trial point per accepted step.
    CHECK(rec.evaluations >= 4);
    CHECK(r.rounds == rec.evaluations);
    const std::vector<double> x = row(r.x, 1);
    const double f = 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
    CHECK(rec.loss == doctest::Approx(f).epsilon(1e-14));
    CHECK(rec.loss < 24.2);  // f(−1.2, 1) = 24.2, and every accepted step decreases f
    CHECK(rec.grad_norm == doctest::Approx(max_abs(rosenbrock_gradient(x))).epsilon(1e-12));
    CHECK(max_abs_diff(r.grad, gradient_of(rosenbrock, r.x)) <= 1e-12);
  }
  SUBCASE("default max_iterations is 200·d") {
    // exp(x) has no minimum and a gradient that never reaches 0 in the range 200 steps can cover.
    for (const bool limited : {false, true}) {
      CAPTURE(limited);
      const QuasiNewtonResult r = (limited ? run_lbfgs : run_bfgs)(
          [](const Tensor& x) { return sum(exp(x), {1}); }, zeros({1, 1}, DType::f64), 0.0);
      CHECK(r.problems[0].reason == StopReason::max_iterations);
      CHECK(r.problems[0].iterations == 200);
    }
  }
  SUBCASE("max_evaluations") {
    BfgsOptions options;
    options.max_evaluations = 6;
    const QuasiNewtonResult r = bfgs_minimize(rosenbrock, x0, options);
    const QuasiNewtonRecord& rec = r.problems[1];
    CHECK(rec.reason == StopReason::max_evaluations);
    CHECK(rec.evaluations >= 6);
    CHECK(rec.iterations < rec.evaluations);
  }
  SUBCASE("non-finite start") {
    // Σ (√x − 1.5)², minimum at x = 2.25, NaN for x < 0. Problem 1 starts at x < 0.
    const QuasiNewtonResult r = bfgs_minimize([](const Tensor& x) { return sum(square(sqrt(x) - 1.5), {1}); },
                                              from_vector({1.0, 2.0, -1.0, 2.0}, {2, 2}, DType::f64));
    CHECK(r.problems[0].reason == StopReason::converged);
    CHECK(r.problems[0].iterations > 0);
    CHECK(r.problems[1].reason == StopReason::non_finite);
    CHECK(r.problems[1].iterations == 0);
    CHECK(r.problems[1].evaluations == 1);
  }
  SUBCASE("line search failure") {
    // f = Σ x, NaN everywhere except at x0 = 0: the Moré–Thuente search fails at its NaN first trial; the
    // zoom search starts over, its first trial is NaN, then it bisects towards 0 for its 11 trial points and
    // gives up. 1 + 1 + 1 + 11 evaluations, x stays at x0.
    const BatchedObjective f = [](const Tensor& x) {
      const Tensor moved = gt(sum(abs(x), {1}), scalar(0.0, DType::f64));
      return sum(x, {1}) + where(moved, full({x.size(0)}, kNaN, DType::f64), zeros({x.size(0)}, DType::f64));
    };
    const QuasiNewtonResult r = bfgs_minimize(f, zeros({1, 3}, DType::f64));
    const QuasiNewtonRecord& rec = r.problems[0];
    CHECK(rec.reason == StopReason::line_search_failed);
    CHECK(rec.iterations == 0);
    CHECK(rec.evaluations == 14);
    CHECK(max_abs(r.x) == 0);
    CHECK(rec.loss == 0);
    CHECK(rec.grad_norm == 1);
  }
}

TEST_CASE("stop reasons have names, and bad arguments are refused with the reason") {
  CHECK(stop_reason_name(StopReason::converged) == "converged");
  CHECK(stop_reason_name(StopReason::line_search_failed) == "line_search_failed");
  CHECK(contains(error_message([] { bfgs_minimize(rosenbrock, zeros({2}, DType::f64)); }),
                 "bfgs_minimize: expected a real floating x0 of shape [B, d], got shape [2]"));
  LbfgsOptions options;
  options.memory = 0;
  CHECK(contains(error_message([&] {
                   lbfgs_minimize(rosenbrock, zeros({1, 2}, DType::f64), options);
                 }),
                 "memory must be at least 1"));
  CHECK(contains(error_message([] {
                   bfgs_minimize([](const Tensor& x) { return sum(x); }, zeros({3, 2}, DType::f64));
                 }),
                 "expected [3]"));
}

TEST_CASE("BFGS and L-BFGS refuse options that would end every problem as a failed line search") {
  // These once ran: gtol NaN reported an exact solve as line_search_failed, c1 > c2 or c2 NaN stopped after
  // 0 iterations, and c1 NaN silently turned the sufficient-decrease test off.
  const auto rejects = [](const BfgsOptions& options, const std::string& message) {
    CHECK(contains(error_message([&] { bfgs_minimize(rosenbrock, rosenbrock_start(2), options); }), message));
    LbfgsOptions limited;
    static_cast<BfgsOptions&>(limited) = options;
    CHECK(
        contains(error_message([&] { lbfgs_minimize(rosenbrock, rosenbrock_start(2), limited); }), message));
  };
  BfgsOptions o;
  o.gtol = NAN;
  rejects(o, "gtol nan must be finite and >= 0");
  o = BfgsOptions{};
  o.line_search.c1 = 0.95;
  rejects(o, "needs 0 < c1 < c2 < 1");
  o = BfgsOptions{};
  o.line_search.c1 = NAN;
  rejects(o, "needs 0 < c1 < c2 < 1");
  o = BfgsOptions{};
  o.line_search.max_step = -1;
  rejects(o, "0 < min_step < max_step");
}
