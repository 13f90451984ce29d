// Optimizers, schedules and clipping against hand computations of PyTorch's update rules, and an MLP fit.
#include <algorithm>
#include <cmath>
#include <memory>

#include "nn/architectures.h"
#include "optim/adam.h"
#include "optim/adaptive.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "test_util.h"

using namespace dphys;
using namespace dphys::optim;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

Tensor parameter(const std::vector<double>& values) {
  return from_vector(values, {static_cast<std::int64_t>(values.size())}, DType::f64).requires_grad_();
}

std::vector<double> values(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

// One training step on the quadratic f(θ) = ½ Σ a_i θ_i², whose gradient is a ⊙ θ.
void quadratic_step(Optimizer& optimizer, const Tensor& theta, const Tensor& a) {
  optimizer.zero_grad();
  backward(0.5 * sum(a * theta * theta));
  optimizer.step();
}

const std::vector<double> kStart{1.0, -2.0, 0.5};
const std::vector<double> kCurvature{1.0, 0.5, 4.0};

// θ after `steps` SGD steps on the quadratic, written out from PyTorch's torch.optim.SGD (dampening 0).
std::vector<double> sgd_by_hand(const SGDOptions& o, int steps) {
  std::vector<double> theta = kStart, buffer(theta.size());
  for (int t = 1; t <= steps; ++t)
    for (std::size_t i = 0; i < theta.size(); ++i) {
      const double g = kCurvature[i] * theta[i] + o.weight_decay * theta[i];
      double d = g;
      if (o.momentum != 0.0) {
        buffer[i] = t == 1 ? g : o.momentum * buffer[i] + g;
        d = o.nesterov ? g + o.momentum * buffer[i] : buffer[i];
      }
      theta[i] -= o.lr * d;
    }
  return theta;
}

// θ after `steps` Adam or AdamW steps on the quadratic, from Kingma & Ba's Algorithm 1 in PyTorch's form.
std::vector<double> adam_by_hand(const AdamOptions& o, bool decoupled, int steps) {
  std::vector<double> theta = kStart, m(theta.size()), v(theta.size());
  for (int t = 1; t <= steps; ++t)
    for (std::size_t i = 0; i < theta.size(); ++i) {
      double g = kCurvature[i] * theta[i];
      if (decoupled) {
        theta[i] *= 1.0 - o.lr * o.weight_decay;
      } else {
        g += o.weight_decay * theta[i];
      }
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(o.beta1, t));
      const double v_hat = v[i] / (1 - std::pow(o.beta2, t));
      theta[i] -= o.lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  return theta;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tolerance = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tolerance));
}

}  // namespace

TEST_CASE("SGD matches PyTorch's rule: plain, momentum, Nesterov, weight decay") {
  const Tensor a = from_vector(kCurvature, {3}, DType::f64);
  std::vector<SGDOptions> cases(4);
  cases[0].lr = 0.1;
  cases[1].lr = 0.1;
  cases[1].momentum = 0.9;
  cases[2].lr = 0.05;
  cases[2].momentum = 0.8;
  cases[2].nesterov = true;
  cases[3].lr = 0.1;
  cases[3].momentum = 0.5;
  cases[3].nesterov = true;
  cases[3].weight_decay = 0.1;
  for (const SGDOptions& options : cases) {
    const Tensor theta = parameter(kStart);
    SGD sgd({theta}, options);
    for (int step = 1; step <= 3; ++step) {
      quadratic_step(sgd, theta, a);
      check_close(values(theta), sgd_by_hand(options, step));
    }
  }
}

TEST_CASE("Adam matches the hand computation over three steps; its first step has size lr") {
  const Tensor a = from_vector(kCurvature, {3}, DType::f64);
  AdamOptions options;
  options.lr = 0.1;
  const Tensor theta = parameter(kStart);
  Adam adam({theta}, options);
  quadratic_step(adam, theta, a);
  // m̂ = g and v̂ = g² after one step, so every element moves by lr against the sign of its gradient.
  for (std::size_t i = 0; i < kStart.size(); ++i)
    CHECK(values(theta)[i] - kStart[i] == doctest::Approx(kStart[i] > 0 ? -0.1 : 0.1).epsilon(1e-6));
  quadratic_step(adam, theta, a);
  quadratic_step(adam, theta, a);
  check_close(values(theta), adam_by_hand(options, false, 3));

  options.weight_decay = 0.2;
  options.beta1 = 0.8;
  options.beta2 = 0.99;
  options.eps = 1e-3;
  const Tensor decayed = parameter(kStart);
  Adam l2({decayed}, options);
  for (int step = 0; step < 3; ++step) quadratic_step(l2, decayed, a);
  check_close(values(decayed), adam_by_hand(options, false, 3));
}

TEST_CASE("Adam's one-pass update equals PyTorch's op-by-op sequence bit for bit, in f32 and f64") {
  for (const DType dtype : {DType::f32, DType::f64}) {
    for (const bool decoupled : {false, true}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(decoupled);
      AdamOptions options;
      options.lr = 0.03;
      options.weight_decay = 0.1;
      Generator gen(5);
      const Tensor start = uniform({7}, -2.0, 2.0, gen, dtype);
      const Tensor theta = start.clone().requires_grad_();
      AdamWOptions decoupled_options;
      static_cast<AdamOptions&>(decoupled_options) = options;
      std::unique_ptr<Optimizer> adam;
      if (decoupled)
        adam = std::make_unique<AdamW>(std::vector<Tensor>{theta}, decoupled_options);
      else
        adam = std::make_unique<Adam>(std::vector<Tensor>{theta}, options);
      // The reference: the update written with tensor ops, as PyTorch's single-tensor Adam does it.
      Tensor p = start.clone(), m = zeros_like(start), v = zeros_like(start);
      for (int t = 1; t <= 3; ++t) {
        const Tensor a = uniform({7}, 0.5, 2.0, gen, dtype);
        adam->zero_grad();
        backward(0.5 * sum(a * theta * theta));
        adam->step();
        const Tensor grad = a * p;
        Tensor g = grad;
        if (decoupled)
          p = p * (1.0 - options.lr * options.weight_decay);
        else
          g = grad + options.weight_decay * p;
        m = m * options.beta1 + (1.0 - options.beta1) * g;
        v = v * options.beta2 + (1.0 - options.beta2) * (g * g);
        const double c1 = 1.0 - std::pow(options.beta1, t), c2 = 1.0 - std::pow(options.beta2, t);
        p = p + (-options.lr / c1) * (m / (sqrt(v) / std::sqrt(c2) + options.eps));
        CHECK(test::max_abs_diff(theta.detach(), p) == 0.0);
      }
    }
  }
}

TEST_CASE("AdamW decays the weights decoupled from the moments") {
  const Tensor a = from_vector(kCurvature, {3}, DType::f64);
  AdamWOptions options;
  CHECK(options.weight_decay == 1e-2);
  options.lr = 0.1;
  options.weight_decay = 0.5;
  const Tensor theta = parameter(kStart);
  AdamW adamw({theta}, options);
  for (int step = 1; step <= 3; ++step) {
    quadratic_step(adamw, theta, a);
    check_close(values(theta), adam_by_hand(options, true, step));
  }
  // With a zero gradient the moments stay zero and only the decay acts: θ ← θ·(1 − lr·wd) per step.
  const Tensor idle = parameter(kStart);
  AdamW decay_only({idle}, options);
  for (int step = 0; step < 2; ++step) {
    decay_only.zero_grad();
    backward(0.0 * sum(idle));
    decay_only.step();
  }
  std::vector<double> expected = kStart;
  for (double& v : expected) v *= (1 - 0.1 * 0.5) * (1 - 0.1 * 0.5);
  check_close(values(idle), expected);
}

TEST_CASE("step skips parameters without a gradient and keeps no state for them") {
  const Tensor used = parameter({1.0, 2.0});
  const Tensor unused = parameter({3.0});
  Adam adam({used, unused}, AdamOptions());
  backward(sum(used * used));
  adam.step();
  CHECK(values(unused) == std::vector<double>{3.0});
  CHECK(values(used)[0] != 1.0);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : adam.state()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"lr", "param.0.step", "param.0.exp_avg", "param.0.exp_avg_sq"});
  adam.zero_grad();
  CHECK(!used.grad().defined());
}

TEST_CASE("optimizers reject bad arguments with the reason") {
  CHECK(contains(error_message([] { SGD({from_vector({1.0}, {1})}, SGDOptions()); }), "requires_grad_"));
  SGDOptions nesterov;
  nesterov.nesterov = true;
  CHECK(contains(error_message([&] { SGD({parameter({1.0})}, nesterov); }), "momentum > 0"));
  AdamOptions betas;
  betas.beta2 = 1.0;
  CHECK(contains(error_message([&] { Adam({parameter({1.0})}, betas); }), "betas"));
  Adam adam({parameter({1.0})}, AdamOptions());
  CHECK(contains(error_message([&] { adam.set_lr(-1.0); }), "learning rate"));
}

TEST_CASE("load_state validates everything and changes nothing on error") {
  const Tensor theta = parameter(kStart);
  const Tensor a = from_vector(kCurvature, {3}, DType::f64);
  SGDOptions options;
  options.lr = 0.1;
  options.momentum = 0.9;
  SGD sgd({theta}, options);
  quadratic_step(sgd, theta, a);
  const NamedTensors before = sgd.state();

  auto bad_shape = before;
  bad_shape[1].second = zeros({2}, DType::f64);
  CHECK(contains(error_message([&] { sgd.load_state(bad_shape); }), "expected shape [3]"));
  auto extra = before;
  extra.emplace_back("param.1.momentum_buffer", zeros({3}, DType::f64));
  CHECK(contains(error_message([&] { sgd.load_state(extra); }), "names parameter 1"));
  auto unknown = before;
  unknown.emplace_back("param.0.exp_avg", zeros({3}, DType::f64));
  CHECK(contains(error_message([&] { sgd.load_state(unknown); }), "no state 'exp_avg'"));
  const NamedTensors no_lr(before.begin() + 1, before.end());
  CHECK(contains(error_message([&] { sgd.load_state(no_lr); }), "no 'lr'"));

  const NamedTensors after = sgd.state();
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].first == before[i].first);
    CHECK(values(after[i].second) == values(before[i].second));
  }
}

TEST_CASE("schedules produce the documented learning-rate sequences") {
  const Tensor theta = parameter({1.0});
  SGDOptions options;
  options.lr = 0.8;
  SGD sgd({theta}, options);

  ConstantSchedule constant(sgd);
  for (int t = 0; t < 3; ++t) constant.step();
  CHECK(sgd.lr() == 0.8);

  StepSchedule steps(sgd, 2, 0.5);
  std::vector<double> seen;
  for (int t = 0; t < 5; ++t) {
    steps.step();
    seen.push_back(sgd.lr());
  }
  check_close(seen, {0.8, 0.4, 0.4, 0.2, 0.2});

  sgd.set_lr(1.0);
  CosineSchedule cosine(sgd, 4, 0.1);
  seen.clear();
  for (int t = 0; t < 6; ++t) {
    cosine.step();
    seen.push_back(sgd.lr());
  }
  const double pi = std::acos(-1.0);
  std::vector<double> expected;
  for (int t = 1; t <= 6; ++t) expected.push_back(0.1 + 0.9 * (1 + std::cos(pi * t / 4)) / 2);
  check_close(seen, expected);
  CHECK(seen[3] == doctest::Approx(0.1));  // t = t_max reaches eta_min
  CHECK(cosine.steps() == 6);
}

TEST_CASE("clip_grad_norm scales all gradients by max_norm / norm and returns the norm") {
  const Tensor p = parameter({0.0, 0.0});
  const Tensor q = parameter({0.0});
  const Tensor unused = parameter({0.0});
  backward(sum(from_vector({3.0, 4.0}, {2}, DType::f64) * p) + 12.0 * sum(q));
  const double norm = clip_grad_norm({p, q, unused}, 6.5);
  CHECK(norm == doctest::Approx(13.0));
  const double scale = 6.5 / (13.0 + 1e-6);
  check_close(values(p.grad()), {3.0 * scale, 4.0 * scale});
  check_close(values(q.grad()), {12.0 * scale});
  CHECK(!unused.grad().defined());
  // Below the threshold nothing changes.
  CHECK(clip_grad_norm({p, q}, 100.0) == doctest::Approx(6.5).epsilon(1e-6));
  check_close(values(q.grad()), {12.0 * scale});
}

TEST_CASE("clipping scales each gradient once when two leaves are fed by one add") {
  // The two inputs of an add receive the same cotangent tensor from the add's VJP.
  const Tensor a = parameter({0.0, 0.0});
  const Tensor b = parameter({0.0, 0.0});
  backward(sum((a + b) * from_vector({3.0, 4.0}, {2}, DType::f64)));
  const double norm = clip_grad_norm({a, b}, 1.0);
  CHECK(norm == doctest::Approx(std::sqrt(50.0)));
  const double scale = 1.0 / (std::sqrt(50.0) + 1e-6);
  check_close(values(a.grad()), {3.0 * scale, 4.0 * scale});
  check_close(values(b.grad()), {3.0 * scale, 4.0 * scale});
}

TEST_CASE("clip_grad_value clamps every element") {
  const Tensor p = parameter({0.0, 0.0, 0.0});
  backward(sum(from_vector({-3.0, 0.25, 2.0}, {3}, DType::f64) * p));
  clip_grad_value({p}, 1.0);
  CHECK(values(p.grad()) == std::vector<double>{-1.0, 0.25, 1.0});
}

TEST_CASE("per-example percentile clipping: norms 1..10 give tau 9.1 and only the largest is rescaled") {
  // Row i is (0.6, 0.8)·i with norm i (jpo.md, acceptance check A.4).
  std::vector<double> rows;
  for (int i = 1; i <= 10; ++i) {
    rows.push_back(0.6 * i);
    rows.push_back(0.8 * i);
  }
  const Tensor g = from_vector(rows, {10, 2}, DType::f64);
  const PercentileClip clipped = clip_per_example_percentile(g);
  CHECK(clipped.threshold == doctest::Approx(9.1));
  const auto out = values(clipped.gradients);
  for (std::size_t k = 0; k < 18; ++k) CHECK(out[k] == rows[k]);
  CHECK(out[18] == doctest::Approx(0.6 * 9.1));
  CHECK(out[19] == doctest::Approx(0.8 * 9.1));
  CHECK(values(g) == rows);  // the input is untouched
}

TEST_CASE("per-example percentile clipping: non-finite rows, N = 2, N = 1, f32, other shapes") {
  const double nan = std::nan("");
  // Norms 5, NaN, 1, 2: the NaN row becomes 0 and is left out; τ = quantile 0.9 of {1, 2, 5} = 2 + 0.8·3.
  const Tensor g = from_vector({3, 4, nan, 1, 1, 0, 0, 2}, {4, 2}, DType::f64);
  const PercentileClip clipped = clip_per_example_percentile(g);
  const double tau = 2 + 0.8 * 3;
  CHECK(clipped.threshold == doctest::Approx(tau));
  check_close(values(clipped.gradients), {3 * tau / 5, 4 * tau / 5, 0, 0, 1, 0, 0, 2});

  // N = 2: τ = n_min + 0.9 (n_max − n_min).
  const PercentileClip two = clip_per_example_percentile(from_vector({1, 0, 0, 11}, {2, 2}, DType::f64));
  CHECK(two.threshold == doctest::Approx(10.0));
  check_close(values(two.gradients), {1, 0, 0, 10});

  const Tensor one = from_vector({3, 4}, {1, 2}, DType::f32);
  const PercentileClip single = clip_per_example_percentile(one);
  CHECK(single.gradients.dtype() == DType::f32);
  CHECK(values(single.gradients) == values(one));

  // Rows may have any shape; a lower quantile clips more rows: quantile 0 clips every row to the smallest.
  const Tensor images = from_vector({1, 1, 1, 1, 2, 2, 2, 2}, {2, 2, 2}, DType::f64);
  const PercentileClip low = clip_per_example_percentile(images, 0.0);
  CHECK(low.threshold == doctest::Approx(2.0));
  check_close(values(low.gradients), {1, 1, 1, 1, 1, 1, 1, 1});

  CHECK(contains(error_message([] { clip_per_example_percentile(scalar(1.0)); }), "[N, ...]"));
}

TEST_CASE(
    "per-example percentile clipping: norms beyond 1e154 or below 1e-154 are computed without overflow") {
  // Row norms 5e200, 1e200·√2 and 5e-200: the plain sum of squares overflowed to an Inf norm, τ came out NaN
  // and every row was scaled by NaN; the tiny row's norm underflowed to 0.
  const Tensor g = from_vector({3e200, 4e200, 1e200, 1e200, 3e-200, 4e-200}, {3, 2}, DType::f64);
  const PercentileClip clipped = clip_per_example_percentile(g);
  const double tau = std::sqrt(2.0) * 1e200 + 0.8 * (5e200 - std::sqrt(2.0) * 1e200);
  CHECK(clipped.threshold == doctest::Approx(tau));
  check_close(values(clipped.gradients), {3 * (tau / 5), 4 * (tau / 5), 1e200, 1e200, 3e-200, 4e-200});
  const PercentileClip low = clip_per_example_percentile(g, 0.0);
  CHECK(low.threshold == doctest::Approx(5e-200));
  // A row whose norm exceeds the largest double is dropped, like a NaN row.
  const PercentileClip huge =
      clip_per_example_percentile(from_vector({1.5e308, 1.5e308, 1, 0}, {2, 2}, DType::f64));
  CHECK(huge.threshold == 1.0);
  check_close(values(huge.gradients), {0, 0, 1, 0});
  // Rows without entries have norm 0 (the scaled path once looked for their largest entry).
  CHECK(clip_per_example_percentile(zeros({3, 0}, DType::f64)).threshold == 0.0);
}

TEST_CASE("Adam fits sin(2x) on [-2, 2] with an nn MLP (1 -> 32 -> 32 -> 1, tanh) to MSE < 1e-3") {
  Generator gen(3);
  nn::MlpOptions mlp;
  mlp.activation = nn::Activation::tanh;
  const auto net = nn::make_mlp(1, {32, 32}, 1, gen, mlp, DType::f64);
  const std::vector<Tensor> params = net->parameters();
  const Tensor x = reshape(linspace(-2.0, 2.0, 128, DType::f64), {128, 1});
  const Tensor y = sin(2.0 * x);
  AdamOptions options;
  options.lr = 1e-2;
  Adam adam(params, options);
  const int steps = 2000;
  CosineSchedule schedule(adam, steps, 1e-4);
  double loss = 0.0;
  for (int step = 0; step < steps; ++step) {
    adam.zero_grad();
    const Tensor mse = mean(square((*net)(x)-y));
    loss = mse.item();
    backward(mse);
    adam.step();
    schedule.step();
  }
  MESSAGE("final MSE " << loss);
  CHECK(loss < 1e-3);
}

TEST_CASE("Adagrad, RMSprop and Adadelta match PyTorch's rules written out by hand over four steps") {
  const int steps = 4;
  const double wd = 0.1;
  std::vector<double> adagrad = kStart, rmsprop = kStart, adadelta = kStart;
  std::vector<double> sum(3), square_avg(3), adadelta_avg(3), acc_delta(3);
  for (int t = 1; t <= steps; ++t)
    for (std::size_t i = 0; i < 3; ++i) {
      double g = kCurvature[i] * adagrad[i] + wd * adagrad[i];
      sum[i] += g * g;
      adagrad[i] -= 0.1 * g / (std::sqrt(sum[i]) + 1e-10);

      g = kCurvature[i] * rmsprop[i];
      square_avg[i] = 0.99 * square_avg[i] + 0.01 * g * g;
      rmsprop[i] -= 0.01 * g / (std::sqrt(square_avg[i]) + 1e-8);

      g = kCurvature[i] * adadelta[i];
      adadelta_avg[i] = 0.9 * adadelta_avg[i] + 0.1 * g * g;
      const double delta = std::sqrt(acc_delta[i] + 1e-6) / std::sqrt(adadelta_avg[i] + 1e-6) * g;
      acc_delta[i] = 0.9 * acc_delta[i] + 0.1 * delta * delta;
      adadelta[i] -= 0.5 * delta;
    }
  const auto run = [&](Optimizer& optimizer, const Tensor& theta) {
    for (int t = 0; t < steps; ++t)
      quadratic_step(optimizer, theta, from_vector(kCurvature, {3}, DType::f64));
    return values(theta);
  };
  const Tensor a = parameter(kStart), r = parameter(kStart), d = parameter(kStart);
  AdagradOptions adagrad_options;
  adagrad_options.lr = 0.1;
  adagrad_options.weight_decay = wd;
  Adagrad adagrad_optimizer({a}, adagrad_options);
  check_close(run(adagrad_optimizer, a), adagrad);
  RMSprop rmsprop_optimizer({r});
  check_close(run(rmsprop_optimizer, r), rmsprop);
  AdadeltaOptions adadelta_options;
  adadelta_options.lr = 0.5;
  Adadelta adadelta_optimizer({d}, adadelta_options);
  check_close(run(adadelta_optimizer, d), adadelta);
  // Checkpoints name each rule's state.
  const NamedTensors state = adadelta_optimizer.state();
  CHECK(std::any_of(state.begin(), state.end(),
                    [](const auto& entry) { return entry.first == "param.0.acc_delta"; }));
  RMSpropOptions bad;
  bad.alpha = 1.0;
  CHECK(contains(error_message([&] { RMSprop({parameter({1.0})}, bad); }), "alpha"));
}

TEST_CASE("optimizers refuse an empty parameter list and eps = 0") {
  // An empty list stepped without updating anything; eps = 0 divided 0 by 0 where a gradient entry was 0.
  CHECK(contains(error_message([] { Adam adam({}); }), "the parameter list is empty"));
  CHECK(contains(error_message([] { SGD sgd({}, SGDOptions{}); }), "the parameter list is empty"));
  const Tensor p = zeros({3}, DType::f64).requires_grad_();
  AdamOptions adam;
  adam.eps = 0;
  CHECK(contains(error_message([&] { Adam a({p}, adam); }), "eps 0 must be > 0"));
  CHECK(contains(error_message([&] { Adam a({p, p}); }), "parameters 0 and 1 share their storage"));
  AdagradOptions adagrad;
  adagrad.eps = 0;
  CHECK(contains(error_message([&] { Adagrad a({p}, adagrad); }), "eps 0 must be > 0"));
}

TEST_CASE("clip_grad_norm scales gradients beyond 1e154 instead of zeroing them") {
  // The squared norm overflowed: the total was Inf and the coefficient max_norm / Inf = 0.
  const Tensor p = zeros({2}, DType::f64).requires_grad_();
  p.set_grad(from_vector({3e200, 4e200}, {2}, DType::f64));
  const double total = clip_grad_norm({p}, 1.0);
  CHECK(total == doctest::Approx(5e200));
  check_close(values(p.grad()), {0.6, 0.8}, 1e-6);
}

TEST_CASE("clip_grad_norm measures gradients below 1e-154 and reports a NaN gradient as a NaN norm") {
  // Squares of 3e-200 underflow to 0: the plain norm of these gradients is 0.
  const Tensor p = zeros({2}, DType::f64).requires_grad_(), q = zeros({1}, DType::f64).requires_grad_();
  p.set_grad(from_vector({3e-200, 4e-200}, {2}, DType::f64));
  q.set_grad(from_vector({12e-200}, {1}, DType::f64));
  CHECK(std::abs(clip_grad_norm({p, q}, 1.0) / 13e-200 - 1) < 1e-14);
  q.set_grad(from_vector({NAN}, {1}, DType::f64));
  CHECK(std::isnan(clip_grad_norm({p, q}, 1.0)));
}
