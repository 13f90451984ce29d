// The reverse pass and the transforms built on it.
#include "autodiff/node.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

// A two-layer tanh network R^4 -> R^3 with fixed random weights.
struct TwoLayerNet {
  Tensor w1, b1, w2, b2;
  explicit TwoLayerNet(Generator& gen)
      : w1(normal({5, 4}, 0, 0.7, gen, DType::f64)),
        b1(normal({5, 1}, 0, 0.3, gen, DType::f64)),
        w2(normal({3, 5}, 0, 0.7, gen, DType::f64)),
        b2(normal({3, 1}, 0, 0.3, gen, DType::f64)) {}
  Tensor operator()(const Tensor& x) const {
    const Tensor column = reshape(x, {4, 1});
    return reshape(matmul(w2, tanh(matmul(w1, column) + b1)) + b2, {3});
  }
};

}  // namespace

TEST_CASE("grad of grad of grad: derivatives of x^3 are 3x^2, 6x, 6") {
  const Tensor x = from_vector({-1.5, 0.5, 2.0}, {3}, DType::f64);
  const UnaryFunction cube = [](const Tensor& v) { return sum(v * v * v); };
  const UnaryFunction first = [&](const Tensor& v) { return sum(grad(cube, v)); };
  const UnaryFunction second = [&](const Tensor& v) { return sum(grad(first, v)); };
  const auto d1 = grad(cube, x).to_vector<double>();
  const auto d2 = grad(first, x).to_vector<double>();
  const auto d3 = grad(second, x).to_vector<double>();
  const std::vector<double> xs{-1.5, 0.5, 2.0};
  for (int i = 0; i < 3; ++i) {
    CHECK(d1[i] == doctest::Approx(3 * xs[i] * xs[i]));
    CHECK(d2[i] == doctest::Approx(6 * xs[i]));
    CHECK(d3[i] == doctest::Approx(6.0));
  }
}

TEST_CASE("jacobian of a two-layer tanh network matches finite differences") {
  Generator gen(7);
  const TwoLayerNet net(gen);
  const Tensor x = normal({4}, 0, 1, gen, DType::f64);
  const Tensor jac = jacobian(net, x);
  REQUIRE(jac.shape() == Shape{3, 4});
  // Column j by central differences.
  const double eps = 1e-6;
  const auto j = jac.to_vector<double>();
  for (int col = 0; col < 4; ++col) {
    std::vector<double> e(4, 0.0);
    e[col] = eps;
    const Tensor step = from_vector(e, {4}, DType::f64);
    const auto column = ((net(x + step) - net(x - step)) / (2 * eps)).to_vector<double>();
    for (int row = 0; row < 3; ++row) CHECK(j[row * 4 + col] == doctest::Approx(column[row]).epsilon(1e-7));
  }
}

TEST_CASE("jacobian of the gradient is the symmetric Hessian, and hvp agrees with it") {
  Generator gen(11);
  const Tensor a = normal({4, 4}, 0, 1, gen, DType::f64);
  const UnaryFunction f = [&](const Tensor& x) {
    return sum(sin(reshape(matmul(a, reshape(x, {4, 1})), {4})) * x);
  };
  const Tensor x = normal({4}, 0, 1, gen, DType::f64);
  const Tensor hessian = jacobian([&](const Tensor& v) { return grad(f, v); }, x);
  REQUIRE(hessian.shape() == Shape{4, 4});
  CHECK(max_abs_diff(hessian, transpose(hessian)) < 1e-12);
  const Tensor v = normal({4}, 0, 1, gen, DType::f64);
  const Tensor expected = reshape(matmul(hessian, reshape(v, {4, 1})), {4});
  CHECK(max_abs_diff(hvp(f, x, v), expected) < 1e-12);
}

TEST_CASE("jvp matches finite differences and equals the Jacobian times the tangent") {
  Generator gen(3);
  const TwoLayerNet net(gen);
  const Function f = [&](const std::vector<Tensor>& v) { return net(v[0] * v[1]); };
  const Tensor x = normal({4}, 0, 1, gen, DType::f64), y = normal({4}, 0, 1, gen, DType::f64);
  const Tensor tx = normal({4}, 0, 1, gen, DType::f64), ty = normal({4}, 0, 1, gen, DType::f64);
  const auto [value, tangent] = jvp(f, {x, y}, {tx, ty});
  CHECK(max_abs_diff(value, f({x, y})) == 0.0);
  const double eps = 1e-6;
  const Tensor fd = (f({x + eps * tx, y + eps * ty}) - f({x - eps * tx, y - eps * ty})) / (2 * eps);
  CHECK(max_abs_diff(tangent, fd) < 1e-8 * (1 + max_abs(fd)));
}

TEST_CASE("vjp returns the cotangent-weighted gradient of a vector function") {
  const Tensor x = from_vector({1.0, 2.0, 3.0}, {3}, DType::f64);
  const Tensor cot = from_vector({1.0, -1.0, 0.5}, {3}, DType::f64);
  const auto [y, grads] = vjp([](const std::vector<Tensor>& v) { return v[0] * v[0]; }, {x}, cot);
  CHECK(y.to_vector<double>() == std::vector<double>{1, 4, 9});
  CHECK(grads[0].to_vector<double>() == std::vector<double>{2, -4, 3});
  CHECK(!y.requires_grad());
}

TEST_CASE("a gradient with respect to an unused input is zero, and stop_gradient blocks flow") {
  const Tensor x = from_vector({1.0, 2.0}, {2}, DType::f64), y = from_vector({3.0, 4.0}, {2}, DType::f64);
  const auto grads =
      grad([](const std::vector<Tensor>& v) { return sum(v[0] * stop_gradient(v[0]) + 0.0 * 1.0); }, {x, y});
  CHECK(grads[0].to_vector<double>() == std::vector<double>{1.0, 2.0});
  CHECK(grads[1].to_vector<double>() == std::vector<double>{0.0, 0.0});
}

TEST_CASE("cast passes the gradient back in the input's dtype") {
  const Tensor x = from_vector({1.0, 2.0}, {2}, DType::f32);
  const Tensor w = from_vector({0.25, -3.0}, {2}, DType::f64);
  const Tensor g = grad([&](const Tensor& v) { return sum(cast(v, DType::f64) * w); }, x);
  CHECK(g.dtype() == DType::f32);
  CHECK(g.to_vector<float>() == std::vector<float>{0.25f, -3.0f});
}

TEST_CASE("backward accumulates into the .grad of leaves; zero_grad clears it") {
  Tensor w = from_vector({1.0, -2.0}, {2}, DType::f64);
  w.requires_grad_();
  CHECK(w.is_leaf());
  const Tensor loss = sum(w * w * 3.0);
  CHECK(!loss.is_leaf());
  backward(loss, Tensor(), /*retain_graph=*/true);
  CHECK(w.grad().to_vector<double>() == std::vector<double>{6.0, -12.0});
  backward(loss);
  CHECK(w.grad().to_vector<double>() == std::vector<double>{12.0, -24.0});
  w.zero_grad();
  CHECK(!w.grad().defined());
}

TEST_CASE("NoGradGuard records nothing") {
  Tensor w = ones({2}, DType::f64);
  w.requires_grad_();
  {
    NoGradGuard no_grad;
    CHECK(!(w * 2.0).requires_grad());
  }
  CHECK((w * 2.0).requires_grad());
}

TEST_CASE("backward releases what it no longer needs") {
  Tensor x = from_vector({0.5, 1.5}, {2}, DType::f64);
  x.requires_grad_();
  Tensor a = x * 2.0;
  const Tensor loss = sum(sin(a));  // sin saves a for its backward
  std::weak_ptr<Storage> saved = a.storage();
  a = Tensor();
  CHECK(!saved.expired());
  backward(loss);
  CHECK(saved.expired());
  CHECK(contains(error_message([&] { backward(loss); }), "already freed"));
}

TEST_CASE("checkpoint gives the same first and second derivatives while recording nothing inside") {
  Generator gen(5);
  const Tensor w = normal({3, 3}, 0, 0.5, gen, DType::f64);
  const Function block = [&](const std::vector<Tensor>& v) { return tanh(matmul(w, v[0])) + v[0]; };
  const auto rollout = [&](const Tensor& x, bool checkpointed) {
    Tensor state = x;
    for (int step = 0; step < 8; ++step) state = checkpointed ? checkpoint(block, {state}) : block({state});
    return sum(state * state);
  };
  const Tensor x = normal({3, 2}, 0, 1, gen, DType::f64);
  const UnaryFunction plain = [&](const Tensor& v) { return rollout(v, false); };
  const UnaryFunction saved = [&](const Tensor& v) { return rollout(v, true); };
  CHECK(max_abs_diff(grad(plain, x), grad(saved, x)) < 1e-12);
  const Tensor v = normal({3, 2}, 0, 1, gen, DType::f64);
  CHECK(max_abs_diff(hvp(plain, x, v), hvp(saved, x, v)) < 1e-12);
  // The checkpointed op is one node whose input is the previous state: nothing of the block was recorded.
  Tensor leaf = x.clone();
  leaf.requires_grad_();
  const Tensor out = checkpoint(block, {leaf});
  REQUIRE(out.node()->inputs.size() == 1);
  CHECK(out.node()->inputs[0] == leaf.node());
}

TEST_CASE("custom_op uses the user's backward; a wrong gradient count is an error naming the op") {
  const Tensor x = from_vector({1.0, 2.0, -1.0}, {3}, DType::f64);
  const auto cube = [](const Tensor& v, bool broken) {
    return custom_op(
        "cube", {v}, [](const std::vector<Tensor>& in) { return in[0] * in[0] * in[0]; },
        [broken](const Tensor& g, const std::vector<Tensor>& in, const Tensor&) {
          if (broken) return std::vector<Tensor>{};
          return std::vector<Tensor>{g * 3.0 * in[0] * in[0]};
        });
  };
  CHECK(grad([&](const Tensor& v) { return sum(cube(v, false)); }, x).to_vector<double>() ==
        std::vector<double>{3.0, 12.0, 3.0});
  // The backward is written with differentiable ops, so the second derivative (6x) works too.
  const Tensor second = grad(
      [&](const Tensor& v) { return sum(grad([&](const Tensor& u) { return sum(cube(u, false)); }, v)); }, x);
  CHECK(second.to_vector<double>() == std::vector<double>{6.0, 12.0, -6.0});
  const std::string message =
      error_message([&] { grad([&](const Tensor& v) { return sum(cube(v, true)); }, x); });
  CHECK(contains(message, "cube"));
  CHECK(contains(message, "0 gradients for 1 inputs"));
}

TEST_CASE("a 200k-op chain differentiates and is destroyed without exhausting the stack") {
  Tensor x = scalar(1.0, DType::f64);
  x.requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 200000; ++i) y = y * 1.0 + 0.0;
  backward(y);
  CHECK(x.grad().item() == 1.0);
  y = Tensor();  // tears down a graph 400k nodes deep
  Tensor z = x;
  for (int i = 0; i < 200000; ++i) z = sin(z);
  z = Tensor();  // the same without a backward pass first: closures hold the chain
  CHECK(x.requires_grad());
}

TEST_CASE("leaves fed by one add get .grad tensors of their own") {
  Tensor a = zeros({2}, DType::f64), b = zeros({2}, DType::f64);
  a.requires_grad_();
  b.requires_grad_();
  backward(sum((a + b) * 3.0));
  REQUIRE(a.grad().defined());
  CHECK(a.grad().storage() != b.grad().storage());
  {
    NoGradGuard no_grad;
    a.grad().mul_(0.5);
  }
  CHECK(b.grad().to_vector<double>() == std::vector<double>{3.0, 3.0});
  CHECK(contains(error_message([&] { a.set_grad(zeros({3}, DType::f64)); }), "set_grad"));
}

TEST_CASE("norm and pow have finite gradients at 0: the subgradient 0 and the limits PyTorch takes") {
  // Through sqrt(sum(x²)) the gradient of ‖x‖ at 0 was ∞ · 0 = NaN; so were d/dx x⁰ and d/dp x^p at x = 0.
  const Tensor zero = zeros({2, 3}, DType::f64);
  CHECK(max_abs(grad([](const Tensor& v) { return sum(norm(v, {1})); }, zero)) == 0.0);
  // Only the row that is 0 gets the 0; the other gets x/‖x‖.
  const Tensor mixed = from_vector({0, 0, 0, 3, 0, 4}, {2, 3}, DType::f64);
  CHECK(max_abs_diff(grad([](const Tensor& v) { return sum(norm(v, {1})); }, mixed),
                     from_vector({0, 0, 0, 0.6, 0, 0.8}, {2, 3}, DType::f64)) < 1e-15);
  CHECK(max_abs(grad([](const Tensor& v) { return sum(pow(v, 0.0)); }, zero)) == 0.0);
  const Tensor base = from_vector({0.0, 2.0}, {2}, DType::f64);
  const std::vector<Tensor> by_exponent =
      grad([](const std::vector<Tensor>& v) { return sum(pow(v[0], v[1])); },
           {base, from_vector({2.0, 3.0}, {2}, DType::f64)});
  // d/dp x^p = x^p ln x: 0 at x = 0 (p ≥ 0), 8 ln 2 at x = 2, p = 3.
  CHECK(max_abs_diff(by_exponent[1], from_vector({0.0, 8 * std::log(2.0)}, {2}, DType::f64)) < 1e-14);
  CHECK(max_abs_diff(by_exponent[0], from_vector({0.0, 12.0}, {2}, DType::f64)) < 1e-14);
  // Away from 0 the Hessian of ‖x‖ still matches finite differences of its gradient.
  const Tensor x = from_vector({1.0, -2.0, 0.5}, {3}, DType::f64),
               u = from_vector({0.3, 0.1, -0.7}, {3}, DType::f64);
  const Tensor h = hvp([](const Tensor& v) { return norm(v, {0}); }, x, u);
  const auto g = [](const Tensor& v) { return grad([](const Tensor& w) { return norm(w, {0}); }, v); };
  CHECK(max_abs_diff(h, (g(x + u * 1e-6) - g(x - u * 1e-6)) / 2e-6) < 1e-8);
}

TEST_CASE("checkpoint passes i64 inputs along") {
  // track() once called requires_grad_ on every input, so the backward pass failed on an index tensor.
  const Tensor x = from_vector({1.0, 2.0, 3.0}, {3}, DType::f64);
  const Tensor index = from_indices({2, 0}, {2});
  const auto f = [](const std::vector<Tensor>& v) { return sum(square(index_select(v[0], 0, v[1]))); };
  const Tensor plain = grad([&](const Tensor& v) { return f({v, index}); }, x);
  const Tensor through_checkpoint = grad([&](const Tensor& v) { return checkpoint(f, {v, index}); }, x);
  CHECK(max_abs_diff(plain, from_vector({2.0, 0.0, 6.0}, {3}, DType::f64)) == 0.0);
  CHECK(max_abs_diff(through_checkpoint, plain) == 0.0);
}

TEST_CASE("jvp through a custom op whose backward does not record is an error, not a zero") {
  // x ↦ x² as a custom op, with its backward once without and once with recording: jvp returned zeros for
  // the first.
  const auto square_op = [](bool recorded) {
    return [recorded](const Tensor& x) {
      return custom_op(
          "square", {x}, [](const std::vector<Tensor>& v) { return v[0] * v[0]; },
          [recorded](const Tensor& g, const std::vector<Tensor>& in, const Tensor&) {
            if (recorded) return std::vector<Tensor>{g * 2.0 * in[0]};
            NoGradGuard no_grad;
            return std::vector<Tensor>{g * 2.0 * in[0]};
          });
    };
  };
  const Tensor x = from_vector({1.0, -2.0, 3.0}, {3}, DType::f64),
               t = from_vector({1.0, 1.0, 0.5}, {3}, DType::f64);
  const auto run_jvp = [&](bool recorded) {
    const auto f = square_op(recorded);
    return jvp([&](const std::vector<Tensor>& v) { return f(v[0]); }, {x}, {t}).second;
  };
  CHECK(max_abs_diff(run_jvp(true), 2.0 * x * t) < 1e-15);
  CHECK(contains(error_message([&] { run_jvp(false); }), "square: its backward ran without recording"));
  // First derivatives through it are unaffected.
  CHECK(max_abs_diff(grad([&](const Tensor& v) { return sum(square_op(false)(v)); }, x), 2.0 * x) < 1e-15);
}
