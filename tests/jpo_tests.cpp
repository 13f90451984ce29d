// The JPO trainer (optim/jpo.h) against hand computations: the clipped per-problem gradients reach the
// network, the best estimates are the per-problem argmin over iterations, non-finite problems drop out, a
// toy problem set is solved and refined, and the "better than BFGS" fraction counts ties as half.
#include <cmath>
#include <limits>

#include "nn/architectures.h"
#include "nn/layers.h"
#include "optim/adam.h"
#include "optim/jpo.h"
#include "optim/sgd.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::optim;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

std::vector<double> values(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

const OutputMap identity = [](const Tensor& raw) { return raw; };

// L_i(x) = ½ w_i ‖x_i − t_i‖²: per-problem weights make the gradient norms differ.
BatchedObjective weighted_quadratic(const Tensor& weights, const Tensor& targets) {
  return [weights, targets](const Tensor& x) { return 0.5 * weights * sum(square(x - targets), {1}); };
}

}  // namespace

TEST_CASE("a JPO step sends the percentile-clipped solution gradients into the network (linear net, SGD)") {
  // x_i = W γ_i with W [2, 3]; g_i = w_i (x_i − t_i); five problems, so τ sits at position 0.9·4 = 3.6
  // of the sorted norms and only the largest gradient is scaled down.
  Generator gen(3);
  nn::Linear net(3, 2, gen, /*bias=*/false, DType::f64);
  const Tensor gammas = normal({5, 3}, 0, 1, gen, DType::f64);
  const Tensor targets = normal({5, 2}, 0, 1, gen, DType::f64);
  const Tensor weights = from_vector({1.0, 2.0, 3.0, 4.0, 50.0}, {5}, DType::f64);
  const std::vector<double> w_before = values(net.weight);
  SGD sgd(net.parameters(), SGDOptions{});
  sgd.set_lr(1.0);
  JpoTrainer trainer(net, gammas, identity, weighted_quadratic(weights, targets), sgd);
  const JpoStepReport report = trainer.step();

  // The same update by hand.
  const std::vector<double> gamma = values(gammas), target = values(targets), weight = values(weights);
  std::vector<double> g(10), norms(5);
  double total = 0;
  for (int i = 0; i < 5; ++i) {
    double squared = 0;
    for (int r = 0; r < 2; ++r) {
      double x = 0;
      for (int c = 0; c < 3; ++c) x += w_before[r * 3 + c] * gamma[i * 3 + c];
      g[i * 2 + r] = weight[i] * (x - target[i * 2 + r]);
      total += 0.5 * weight[i] * (x - target[i * 2 + r]) * (x - target[i * 2 + r]);
      squared += g[i * 2 + r] * g[i * 2 + r];
    }
    norms[i] = std::sqrt(squared);
  }
  std::vector<double> sorted = norms;
  std::sort(sorted.begin(), sorted.end());
  const double tau = sorted[3] + 0.6 * (sorted[4] - sorted[3]);
  CHECK(report.clip_threshold == doctest::Approx(tau).epsilon(1e-12));
  CHECK(report.total_loss == doctest::Approx(total).epsilon(1e-12));
  std::vector<double> expected = w_before;
  for (int i = 0; i < 5; ++i) {
    const double scale = std::min(1.0, tau / norms[i]);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) expected[r * 3 + c] -= scale * g[i * 2 + r] * gamma[i * 3 + c];
  }
  const std::vector<double> w_after = values(net.weight);
  for (int k = 0; k < 6; ++k) CHECK(w_after[k] == doctest::Approx(expected[k]).epsilon(1e-12));

  // Without clipping (quantile 1: τ is the largest norm) the update is the plain gradient of Σ_i L_i.
  nn::Linear plain(3, 2, gen, false, DType::f64);
  const Tensor before = plain.weight.clone();
  SGD plain_sgd(plain.parameters(), SGDOptions{});
  JpoOptions no_clip;
  no_clip.clip_quantile = 1.0;
  JpoTrainer unclipped(plain, gammas, identity, weighted_quadratic(weights, targets), plain_sgd, no_clip);
  unclipped.step();
  const Tensor gradient = grad(
      [&](const std::vector<Tensor>& w) {
        return sum(weighted_quadratic(weights, targets)(matmul(gammas, transpose(w[0]))));
      },
      {before})[0];
  CHECK(test::max_abs_diff(plain.weight, before - plain_sgd.lr() * gradient) < 1e-14);
}

TEST_CASE("JPO keeps every problem's best iterate, drops non-finite problems and reaches the optima") {
  // Problem i: L_i(x) = (x − x_i*)² with x_i* = sin(3 γ_i); problem 0 is NaN whenever x > 0.5, so it is left
  // out of those updates and its best estimate is the best finite one.
  Generator gen(11);
  const std::int64_t n = 16;
  const Tensor gammas = uniform({n, 1}, -1, 1, gen, DType::f32);
  const Tensor optima = sin(3.0 * cast(gammas, DType::f64));
  const BatchedObjective objective = [optima](const Tensor& x) {
    const Tensor l = sum(square(x - optima), {1});
    const Tensor first =
        eq(arange(0, static_cast<double>(x.size(0)), 1, DType::f64), scalar(0.0, DType::f64));
    const Tensor nan_mask = first * gt(reshape(x.detach(), {x.size(0)}), scalar(0.5, DType::f64));
    return where(nan_mask, full({x.size(0)}, std::numeric_limits<double>::quiet_NaN(), DType::f64), l);
  };
  auto net = nn::make_mlp(1, {32, 32}, 1, gen);
  AdamOptions adam_options;
  adam_options.lr = 1e-2;
  Adam adam(net->parameters(), adam_options);
  JpoTrainer trainer(*net, gammas, identity, objective, adam);
  std::vector<double> best(n, std::numeric_limits<double>::infinity());
  double first_total = 0, last_total = 0;
  for (int it = 0; it < 400; ++it) {
    std::vector<double> losses;
    {
      NoGradGuard no_grad;
      losses = values(objective(cast(net->forward(gammas), DType::f64)));
    }
    for (std::int64_t i = 0; i < n; ++i)
      if (std::isfinite(losses[i]) && losses[i] < best[i]) best[i] = losses[i];
    const JpoStepReport report = trainer.step();
    CHECK(report.non_finite == (std::isfinite(losses[0]) ? 0 : 1));
    if (it == 0) first_total = report.best_total_loss;
    last_total = report.best_total_loss;
  }
  CHECK(values(trainer.best_losses()) == best);
  for (double v : best) CHECK(std::isfinite(v));
  // The stored solutions reproduce the stored losses.
  const std::vector<double> recomputed = values(objective(trainer.best_solutions()));
  for (std::int64_t i = 0; i < n; ++i) CHECK(recomputed[i] == doctest::Approx(best[i]).epsilon(1e-9));
  CHECK(last_total < 1e-2 * first_total);

  // BFGS refinement from the best estimates reaches every optimum (problem 0's too: x_0* = sin(3 γ_0)).
  const QuasiNewtonResult refined = trainer.refine();
  const std::vector<double> x = values(refined.x), star = values(optima);
  for (std::int64_t i = 0; i < n; ++i) {
    if (star[i] > 0.5 && i == 0) continue;  // the optimum lies in the NaN region
    CHECK(std::abs(x[i] - star[i]) < 1e-5);
  }
}

TEST_CASE("improvement over BFGS: better, equal within tolerance, worse, non-finite; ties count half") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor method = from_vector({1.0, 2.0, 3.0, nan, 5.0, 1.0 + 1e-7, nan}, {7}, DType::f64);
  const Tensor bfgs = from_vector({2.0, 2.0, 1.0, 1.0, nan, 1.0, nan}, {7}, DType::f64);
  const Improvement result = improvement_over_bfgs(method, bfgs);
  CHECK(result.better == 2);  // 1 < 2; finite against NaN
  CHECK(result.equal == 3);   // 2 = 2; 1 + 1e-7 within 1e-6 relative; NaN against NaN
  CHECK(result.worse == 2);   // 3 > 1; NaN against finite
  CHECK(result.fraction == doctest::Approx(2.0 / 7 + 3.0 / 14));
  // Tighter tolerance: 1 + 1e-7 is now worse.
  CHECK(improvement_over_bfgs(method, bfgs, 1e-9).worse == 3);
  CHECK(contains(error_message([&] { improvement_over_bfgs(method, slice(bfgs, 0, 0, 3)); }), "[N]"));
}

TEST_CASE("JPO refuses a misshapen output map, a bad quantile and refining before training") {
  Generator gen(1);
  nn::Linear net(2, 3, gen, true, DType::f64);
  SGD sgd(net.parameters(), SGDOptions{});
  const Tensor input = ones({4, 2}, DType::f64);
  const BatchedObjective objective = [](const Tensor& x) { return sum(x, {1}); };
  JpoTrainer flat(
      net, input, [](const Tensor& raw) { return reshape(raw, {12}); }, objective, sgd);
  CHECK(contains(error_message([&] { flat.step(); }), "expected solutions [4, d]"));
  CHECK(contains(error_message([&] { flat.refine(); }), "call step() first"));
  JpoOptions bad;
  bad.clip_quantile = 1.5;
  CHECK(contains(error_message([&] { JpoTrainer(net, input, identity, objective, sgd, bad); }),
                 "clip_quantile"));
}
