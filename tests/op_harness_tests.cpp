// The op table, in the spirit of ggml's test-backend-ops: one entry per differentiable op with its input
// shapes, and every entry runs (a) a central finite-difference gradient check in f64, (b) an f32-vs-f64
// forward agreement check, (c) a Hessian-vector-product check against finite differences of the gradient,
// and (d) a Jacobian-vector-product check against finite differences of the op.
// Broadcasting variants are entries of their own.
#include <functional>
#include <set>

#include <cmath>

#include "autodiff/fourier_ops.h"
#include "autodiff/nn_ops.h"
#include "solvers/heat.h"
#include "solvers/spectral.h"
#include "solvers/stencils.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

// Where inputs are drawn from: the op's domain, and away from kinks where finite differences are meaningless.
enum class Domain { any, positive, away_from_zero };

struct OpCase {
  std::string op;  // the public op under test; variants share it
  std::string variant;
  std::vector<Shape> shapes;
  Function f;
  Domain domain = Domain::any;
};

Grid2D stencil_grid(Boundary boundary) {
  Grid2D grid;
  grid.ny = 3;
  grid.nx = 4;
  grid.length_y = 1.5;
  grid.length_x = 2.0;
  grid.boundary = boundary;
  return grid;
}

Tensor index_tensor(std::vector<std::int64_t> values, Shape shape) { return from_indices(values, shape); }

std::vector<OpCase> op_table() {
  using V = const std::vector<Tensor>&;
  const Tensor idx_select = index_tensor({2, 0, 2, 1}, {4});
  const Tensor idx_gather = index_tensor({0, 2, 2, 1, 0, 0}, {2, 3});
  const Tensor idx_scatter = index_tensor({1, 1, 0, 3, 3, 2}, {3, 2});
  const Tensor condition = from_vector({1, 0, 0, 1, 1, 0}, {2, 3}, DType::f64);
  return {
      {"neg", "", {{3, 4}}, [](V x) { return neg(x[0]); }},
      {"exp", "", {{3, 4}}, [](V x) { return exp(x[0]); }},
      {"log", "", {{3, 4}}, [](V x) { return log(x[0]); }, Domain::positive},
      {"sqrt", "", {{3, 4}}, [](V x) { return sqrt(x[0]); }, Domain::positive},
      {"sin", "", {{3, 4}}, [](V x) { return sin(x[0]); }},
      {"cos", "", {{3, 4}}, [](V x) { return cos(x[0]); }},
      {"tanh", "", {{3, 4}}, [](V x) { return tanh(x[0]); }},
      {"sigmoid", "", {{3, 4}}, [](V x) { return sigmoid(x[0]); }},
      {"relu", "", {{3, 4}}, [](V x) { return relu(x[0]); }, Domain::away_from_zero},
      {"abs", "", {{3, 4}}, [](V x) { return abs(x[0]); }, Domain::away_from_zero},
      {"square", "", {{3, 4}}, [](V x) { return square(x[0]); }},
      {"clamp", "", {{3, 4}}, [](V x) { return clamp(x[0], -0.7, 0.9); }},
      {"add", "", {{3, 4}, {3, 4}}, [](V x) { return x[0] + x[1]; }},
      {"add", "broadcast [2,1,3]+[4,1]", {{2, 1, 3}, {4, 1}}, [](V x) { return x[0] + x[1]; }},
      {"add", "scalar", {{3, 4}}, [](V x) { return 2.5 + x[0]; }},
      {"sub", "", {{3, 4}, {3, 4}}, [](V x) { return x[0] - x[1]; }},
      {"sub", "broadcast [3,4]-[4]", {{3, 4}, {4}}, [](V x) { return x[0] - x[1]; }},
      {"mul", "", {{3, 4}, {3, 4}}, [](V x) { return x[0] * x[1]; }},
      {"mul", "broadcast [3,1]*[1,4]", {{3, 1}, {1, 4}}, [](V x) { return x[0] * x[1]; }},
      {"div", "", {{3, 4}, {3, 4}}, [](V x) { return x[0] / x[1]; }, Domain::away_from_zero},
      {"div",
       "broadcast [2,3,4]/[3,1]",
       {{2, 3, 4}, {3, 1}},
       [](V x) { return x[0] / x[1]; },
       Domain::away_from_zero},
      {"pow", "", {{3, 4}, {3, 4}}, [](V x) { return pow(x[0], x[1]); }, Domain::positive},
      {"pow", "scalar exponent", {{3, 4}}, [](V x) { return pow(x[0], 3.0); }},
      {"maximum", "", {{3, 4}, {3, 4}}, [](V x) { return maximum(x[0], x[1]); }},
      {"maximum", "broadcast [3,4],[4]", {{3, 4}, {4}}, [](V x) { return maximum(x[0], x[1]); }},
      {"minimum", "", {{3, 4}, {3, 4}}, [](V x) { return minimum(x[0], x[1]); }},
      {"where", "", {{2, 3}, {2, 3}}, [condition](V x) { return where(condition, x[0], x[1]); }},
      {"where",
       "broadcast [2,3],[3]",
       {{2, 3}, {3}},
       [condition](V x) { return where(condition, x[0], x[1]); }},
      {"sum", "all", {{3, 4}}, [](V x) { return sum(x[0]); }},
      {"sum", "axis 1 keepdims", {{2, 3, 4}}, [](V x) { return sum(x[0], {1}, true); }},
      {"sum",
       "axes 0,2",
       {{2, 3, 4}},
       [](V x) {
         return sum(x[0], {0, -1});
       }},
      {"mean", "", {{2, 3, 4}}, [](V x) { return mean(x[0], {2}); }},
      {"max", "", {{3, 5}}, [](V x) { return max(x[0], {1}); }},
      {"max", "all", {{3, 5}}, [](V x) { return max(x[0]); }},
      {"min", "", {{3, 5}}, [](V x) { return min(x[0], {0}, true); }},
      {"norm", "", {{3, 4}}, [](V x) { return norm(x[0], {1}); }},
      {"sum_to",
       "",
       {{2, 3, 4}},
       [](V x) {
         return sum_to(x[0], {3, 1});
       }},
      {"broadcast_to",
       "",
       {{3, 1}},
       [](V x) {
         return broadcast_to(x[0], {2, 3, 4});
       }},
      {"reshape",
       "",
       {{3, 4}},
       [](V x) {
         return reshape(x[0], {2, -1, 3});
       }},
      {"flatten", "", {{3, 4}}, [](V x) { return flatten(x[0]); }},
      {"unsqueeze", "", {{3, 4}}, [](V x) { return unsqueeze(x[0], 1); }},
      {"squeeze", "", {{3, 1, 4}}, [](V x) { return squeeze(x[0], 1); }},
      {"permute",
       "",
       {{2, 3, 4}},
       [](V x) {
         return permute(x[0], {2, 0, 1});
       }},
      {"transpose", "", {{3, 4}}, [](V x) { return transpose(x[0]); }},
      {"slice", "step 2", {{5, 7}}, [](V x) { return slice(x[0], 1, 1, 7, 2); }},
      {"slice", "negative", {{5, 7}}, [](V x) { return slice(x[0], 0, -3, -1); }},
      {"index_select", "", {{3, 4}}, [idx_select](V x) { return index_select(x[0], 1, idx_select); }},
      {"gather", "", {{2, 4}}, [idx_gather](V x) { return gather(x[0], 1, idx_gather); }},
      {"scatter_add",
       "",
       {{4, 2}, {3, 2}},
       [idx_scatter](V x) { return scatter_add(x[0], 0, idx_scatter, x[1]); }},
      {"index_add",
       "repeated indices",
       {{2, 3}, {2, 4}},
       [idx_select](V x) { return index_add(x[0], 1, idx_select, x[1]); }},
      {"pad",
       "constant",
       {{3, 4}},
       [](V x) {
         return pad(x[0], {{1, 2}, {0, 1}}, PadMode::constant, 0.5);
       }},
      {"pad",
       "periodic",
       {{3, 4}},
       [](V x) {
         return pad(x[0], {{2, 4}, {1, 1}}, PadMode::periodic);
       }},
      {"pad",
       "edge",
       {{3, 4}},
       [](V x) {
         return pad(x[0], {{2, 1}, {3, 0}}, PadMode::edge);
       }},
      {"concat",
       "",
       {{2, 3}, {4, 3}},
       [](V x) {
         return concat({x[0], x[1]}, 0);
       }},
      {"stack",
       "",
       {{2, 3}, {2, 3}},
       [](V x) {
         return stack({x[0], x[1]}, 1);
       }},
      {"roll", "", {{3, 5}}, [](V x) { return roll(x[0], -2, 1); }},
      {"flip", "", {{3, 5}}, [](V x) { return flip(x[0], 0); }},
      {"matmul", "", {{3, 4}, {4, 2}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul", "batched, broadcast batch", {{2, 3, 4}, {4, 5}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul", "batched", {{2, 3, 4}, {2, 4, 2}}, [](V x) { return matmul(x[0], x[1]); }},
      {"erf", "", {{3, 4}}, [](V x) { return erf(x[0]); }},
      {"leaky_relu", "", {{3, 4}}, [](V x) { return leaky_relu(x[0], 0.1); }, Domain::away_from_zero},
      {"softplus", "", {{3, 4}}, [](V x) { return softplus(x[0]); }, Domain::away_from_zero},
      {"gelu", "", {{3, 4}}, [](V x) { return gelu(x[0]); }},
      {"batch_norm_train",
       "4-D",
       {{3, 2, 2, 3}, {2}, {2}},
       [](V x) { return batch_norm_train(x[0], x[1], x[2], 1e-5); }},
      {"batch_norm_train",
       "3-D",
       {{4, 3, 2}, {3}, {3}},
       [](V x) { return batch_norm_train(x[0], x[1], x[2], 0.1); }},
      {"conv2d",
       "zero padding",
       {{2, 3, 5, 4}, {2, 3, 3, 3}, {2}},
       [](V x) { return conv2d(x[0], x[1], x[2], 1, 1, ConvPadding::zeros); }},
      {"conv2d",
       "circular padding, stride 2",
       {{2, 2, 6, 5}, {3, 2, 3, 3}, {3}},
       [](V x) { return conv2d(x[0], x[1], x[2], 2, 1, ConvPadding::circular); }},
      {"conv2d",
       "circular padding wider than the image, stride 2",
       {{1, 2, 3, 2}, {2, 2, 3, 3}, {2}},
       [](V x) { return conv2d(x[0], x[1], x[2], 2, 4, ConvPadding::circular); }},
      {"conv2d",
       "zero padding 2, stride 2",
       {{2, 2, 5, 4}, {2, 2, 3, 3}, {2}},
       [](V x) { return conv2d(x[0], x[1], x[2], 2, 2, ConvPadding::zeros); }},
      {"conv2d",
       "valid, 1x1",
       {{2, 3, 4, 4}, {2, 3, 1, 1}, {2}},
       [](V x) { return conv2d(x[0], x[1], x[2], 1, 0, ConvPadding::valid); }},
      {"conv1d",
       "zero padding",
       {{2, 3, 7}, {4, 3, 3}, {4}},
       [](V x) { return conv1d(x[0], x[1], x[2], 1, 1, ConvPadding::zeros); }},
      {"conv1d",
       "circular, stride 2",
       {{2, 2, 8}, {3, 2, 3}, {3}},
       [](V x) { return conv1d(x[0], x[1], x[2], 2, 1, ConvPadding::circular); }},
      {"max_pool2d", "", {{2, 2, 4, 6}}, [](V x) { return max_pool2d(x[0], 2); }},
      {"max_pool1d", "odd length", {{2, 3, 7}}, [](V x) { return max_pool1d(x[0], 2); }},
      {"avg_pool2d", "", {{2, 2, 4, 6}}, [](V x) { return avg_pool2d(x[0], 2); }},
      {"avg_pool1d", "", {{2, 3, 6}}, [](V x) { return avg_pool1d(x[0], 3); }},
      {"upsample_nearest", "2-D", {{2, 2, 3, 2}}, [](V x) { return upsample_nearest(x[0], 2); }},
      {"upsample_linear", "bilinear", {{2, 2, 3, 4}}, [](V x) { return upsample_linear(x[0], 2); }},
      {"fourier_filter",
       "1-D complex multiplier",
       {{2, 10}},
       [](V x) {
         Tensor m = zeros({6}, DType::c128);
         for (int j = 0; j < 6; ++j) m.data<c128>()[j] = c128(std::exp(-0.1 * j), j == 5 ? 0.0 : 0.5 * j);
         return fourier_filter(x[0], m, 1);
       }},
      {"fourier_filter",
       "2-D real multiplier",
       {{2, 4, 6}},
       [](V x) { return fourier_filter(x[0], exp(-0.3 * wavenumber_squared_2d(4, 6, 4, 6)), 2); }},
      {"spectral_poisson_2d", "", {{2, 4, 6}}, [](V x) { return spectral_poisson_2d(x[0], 4, 6); }},
      {"heat_exact_2d", "", {{1, 6, 4}}, [](V x) { return heat_exact_2d(x[0], 0.5, 0.7, 6, 4); }},
      {"laplacian",
       "dirichlet 2-D",
       {{2, 4, 5}},
       [](V x) { return laplacian(x[0], 2, 0.5, 0.7, Boundary::dirichlet); }},
      {"laplacian",
       "neumann 1-D",
       {{2, 6}},
       [](V x) { return laplacian(x[0], 1, 1.0, 0.7, Boundary::neumann); }},
      {"face_difference", "closed", {{2, 3, 6}}, [](V x) { return face_difference(x[0], 2, 0.5, false); }},
      {"face_difference_adjoint",
       "periodic",
       {{2, 5, 3}},
       [](V x) { return face_difference_adjoint(x[0], 1, 0.5, true); }},
      {"staggered_divergence",
       "closed",
       {{2, 3, 5}, {2, 4, 4}},
       [](V x) {
         return staggered_divergence({x[0], x[1]}, stencil_grid(Boundary::dirichlet));
       }},
      {"staggered_gradient",
       "neumann",
       {{2, 3, 4}},
       [](V x) {
         const StaggeredField g = staggered_gradient(x[0], stencil_grid(Boundary::neumann));
         return concat({flatten(g.x_faces), flatten(g.y_faces)}, 0);
       }},
      {"centered_gradient",
       "periodic",
       {{2, 3, 4}},
       [](V x) {
         const auto [gy, gx] = centered_gradient(x[0], stencil_grid(Boundary::periodic));
         return gy * 2.0 + gx;
       }},
      {"centered_to_staggered",
       "dirichlet",
       {{2, 3, 4}, {2, 3, 4}},
       [](V x) {
         const StaggeredField f = centered_to_staggered(x[0], x[1], stencil_grid(Boundary::dirichlet));
         return concat({flatten(f.x_faces), flatten(f.y_faces)}, 0);
       }},
      {"staggered_to_centered",
       "periodic",
       {{2, 3, 4}, {2, 3, 4}},
       [](V x) {
         const auto [cy, cx] = staggered_to_centered({x[0], x[1]}, stencil_grid(Boundary::periodic));
         return cy - 3.0 * cx;
       }},
      {"upsample_linear", "1-D, factor 3", {{2, 2, 5}}, [](V x) { return upsample_linear(x[0], 3); }},
  };
}

std::vector<Tensor> draw_inputs(const OpCase& c, Generator& gen) {
  std::vector<Tensor> inputs;
  for (const Shape& shape : c.shapes) {
    switch (c.domain) {
      case Domain::any:
        inputs.push_back(uniform(shape, -1.5, 1.5, gen, DType::f64));
        break;
      case Domain::positive:
        inputs.push_back(uniform(shape, 0.3, 2.0, gen, DType::f64));
        break;
      case Domain::away_from_zero: {
        const Tensor magnitude = uniform(shape, 0.3, 2.0, gen, DType::f64);
        const Tensor signs = sign(uniform(shape, -1.0, 1.0, gen, DType::f64));
        inputs.push_back(magnitude * signs);
        break;
      }
    }
  }
  return inputs;
}

// A scalar loss with a random weighting, so every output element contributes differently.
Function weighted_loss(const Function& f, const Tensor& weights, bool squared) {
  return [f, weights, squared](const std::vector<Tensor>& xs) {
    const Tensor y = f(xs);
    return sum(weights * (squared ? y * y : y));
  };
}

std::string label(const OpCase& c) { return c.variant.empty() ? c.op : c.op + " (" + c.variant + ")"; }

}  // namespace

TEST_CASE("the op table covers at least 40 differentiable ops") {
  std::set<std::string> ops;
  for (const OpCase& c : op_table()) ops.insert(c.op);
  CHECK(ops.size() >= 40);
}

TEST_CASE("every op: f64 gradient matches central finite differences") {
  Generator gen(1234);
  for (const OpCase& c : op_table()) {
    INFO(label(c));
    const std::vector<Tensor> inputs = draw_inputs(c, gen);
    const Tensor y = c.f(inputs);
    const Function loss = weighted_loss(c.f, uniform(y.shape(), 0.5, 1.5, gen, DType::f64), false);
    const std::vector<Tensor> grads = grad(loss, inputs);
    REQUIRE(grads.size() == inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      INFO("input " << i);
      const Tensor fd = finite_difference_gradient(loss, inputs, i);
      CHECK(grads[i].shape() == inputs[i].shape());
      CHECK(max_abs_diff(grads[i], fd) <= 1e-7 * (1.0 + max_abs(fd)));
    }
  }
}

TEST_CASE("every op: f32 forward agrees with f64") {
  Generator gen(99);
  for (const OpCase& c : op_table()) {
    INFO(label(c));
    const std::vector<Tensor> inputs = draw_inputs(c, gen);
    std::vector<Tensor> single;
    for (const Tensor& x : inputs) single.push_back(cast(x, DType::f32));
    const Tensor reference = c.f(inputs), result = c.f(single);
    CHECK(result.dtype() == DType::f32);
    CHECK(result.shape() == reference.shape());
    CHECK(max_abs_diff(result, reference) <= 1e-5 * (1.0 + max_abs(reference)));
  }
}

TEST_CASE("every op: Hessian-vector product matches finite differences of the gradient") {
  Generator gen(4321);
  const double eps = 1e-5;
  for (const OpCase& c : op_table()) {
    INFO(label(c));
    const std::vector<Tensor> inputs = draw_inputs(c, gen);
    // Squaring the output makes the Hessian non-zero even for linear ops, so every VJP is differentiated.
    const Function loss = weighted_loss(c.f, uniform(c.f(inputs).shape(), 0.5, 1.5, gen, DType::f64), true);
    const auto of_first = [&](const Tensor& x) {
      std::vector<Tensor> xs = inputs;
      xs[0] = x;
      return loss(xs);
    };
    const Tensor x = inputs[0];
    const Tensor v = uniform(x.shape(), -1.0, 1.0, gen, DType::f64);
    const Tensor product = hvp(of_first, x, v);
    const Tensor fd = (grad(of_first, x + eps * v) - grad(of_first, x - eps * v)) / (2 * eps);
    CHECK(product.shape() == x.shape());
    CHECK(max_abs_diff(product, fd) <= 1e-6 * (1.0 + max_abs(fd)));
  }
}

TEST_CASE("every op: Jacobian-vector product matches central finite differences of the op") {
  // jvp differentiates each op's VJP once more (the double-VJP trick), so this checks the backward rules'
  // own derivatives with respect to the cotangent, which no other check above reaches for linear ops.
  Generator gen(2468);
  const double eps = 1e-6;
  for (const OpCase& c : op_table()) {
    INFO(label(c));
    const std::vector<Tensor> inputs = draw_inputs(c, gen);
    std::vector<Tensor> tangents, plus, minus;
    for (const Tensor& x : inputs) {
      const Tensor t = uniform(x.shape(), -1.0, 1.0, gen, DType::f64);
      tangents.push_back(t);
      plus.push_back(x + eps * t);
      minus.push_back(x - eps * t);
    }
    const auto [value, product] = jvp(c.f, inputs, tangents);
    const Tensor fd = (c.f(plus) - c.f(minus)) / (2 * eps);
    CHECK(max_abs_diff(value, c.f(inputs)) == 0.0);
    CHECK(product.shape() == value.shape());
    CHECK(max_abs_diff(product, fd) <= 1e-6 * (1.0 + max_abs(fd)));
  }
}
