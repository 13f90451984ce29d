// Layers against hand computations and direct loops; their gradients are checked in the op table.
#include <omp.h>

#include <cmath>

#include "autodiff/nn_ops.h"
#include "autodiff/transforms.h"
#include "engine/conv.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::max_abs_diff;

namespace {

std::vector<double> values(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

// Direct-loop reference of a circular/zero padded, strided 2-D cross-correlation.
std::vector<double> reference_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t stride,
                                     std::int64_t pad, bool circular) {
  const auto px = values(x), pw = values(w), pb = values(b);
  const auto B = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const auto O = w.shape()[0], K = w.shape()[2];
  const auto Ho = (H + 2 * pad - K) / stride + 1, Wo = (W + 2 * pad - K) / stride + 1;
  std::vector<double> out;
  for (std::int64_t n = 0; n < B; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < Ho; ++i)
        for (std::int64_t j = 0; j < Wo; ++j) {
          double acc = pb[o];
          for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t p = 0; p < K; ++p)
              for (std::int64_t q = 0; q < K; ++q) {
                std::int64_t r = i * stride + p - pad, s = j * stride + q - pad;
                if (circular) {  // any width: the padding may wrap round the image more than once
                  r = (r % H + H) % H;
                  s = (s % W + W) % W;
                } else if (r < 0 || r >= H || s < 0 || s >= W) {
                  continue;
                }
                acc += pw[((o * C + c) * K + p) * K + q] * px[((n * C + c) * H + r) * W + s];
              }
          out.push_back(acc);
        }
  return out;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

}  // namespace

TEST_CASE("conv2d matches a direct loop for zero and circular padding and strides") {
  Generator gen(1);
  const Tensor x = normal({2, 3, 7, 6}, 0, 1, gen, DType::f64);
  const Tensor w = normal({4, 3, 3, 3}, 0, 1, gen, DType::f64), b = normal({4}, 0, 1, gen, DType::f64);
  for (std::int64_t stride : {1, 2}) {
    for (std::int64_t pad : {1, 2, 8}) {
      CAPTURE(stride);
      CAPTURE(pad);
      CHECK(max_diff(values(conv2d(x, w, b, stride, pad, ConvPadding::zeros)),
                     reference_conv2d(x, w, b, stride, pad, false)) < 1e-12);
      CHECK(max_diff(values(conv2d(x, w, b, stride, pad, ConvPadding::circular)),
                     reference_conv2d(x, w, b, stride, pad, true)) < 1e-12);
    }
    CHECK(max_diff(values(conv2d(x, w, b, stride, 0, ConvPadding::valid)),
                   reference_conv2d(x, w, b, stride, 0, false)) < 1e-12);
  }
}

TEST_CASE("the conv weight gradient does not depend on the number of threads") {
  // Partial sums per thread would be added in arrival order; fixed chunks of the batch make it reproducible
  // (a resumed run must log what an uninterrupted one does, on any machine).
  Generator gen(5);
  const Tensor x = normal({21, 3, 9, 8}, 0, 1, gen), g = normal({21, 4, 9, 8}, 0, 1, gen);
  const auto weight_grad = [&](int threads) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    const Tensor w = kernel::conv2d_weight_grad(x, g, 1, 3, 3, {1, 1, true});
    omp_set_num_threads(before);
    return w;
  };
  const Tensor one = weight_grad(1);
  CHECK(max_abs_diff(weight_grad(2), one) == 0.0);
  CHECK(max_abs_diff(weight_grad(3), one) == 0.0);
  CHECK(max_abs_diff(weight_grad(5), one) == 0.0);
}

TEST_CASE("padding read inside the convolution equals padding first, in values and gradients") {
  Generator gen(3);
  const Tensor x = normal({2, 3, 7, 6}, 0, 1, gen, DType::f64);
  const Tensor w = normal({4, 3, 3, 3}, 0, 1, gen, DType::f64), b = normal({4}, 0, 1, gen, DType::f64);
  for (const ConvPadding mode : {ConvPadding::zeros, ConvPadding::circular})
    for (std::int64_t stride : {1, 2})
      for (std::int64_t width : {1, 3}) {
        CAPTURE(stride);
        CAPTURE(width);
        const auto fused = [&](const Tensor& in, const Tensor& kernel) {
          return sum(square(conv2d(in, kernel, b, stride, width, mode)));
        };
        const auto padded_first = [&](const Tensor& in, const Tensor& kernel) {
          const Tensor padded = pad(in, {{0, 0}, {0, 0}, {width, width}, {width, width}},
                                    mode == ConvPadding::circular ? PadMode::periodic : PadMode::constant);
          return sum(square(conv2d(padded, kernel, b, stride, 0, ConvPadding::valid)));
        };
        CHECK(std::abs(fused(x, w).item() - padded_first(x, w).item()) < 1e-10);
        const std::vector<Tensor> g_fused =
            grad([&](const std::vector<Tensor>& v) { return fused(v[0], v[1]); }, {x, w});
        const std::vector<Tensor> g_first =
            grad([&](const std::vector<Tensor>& v) { return padded_first(v[0], v[1]); }, {x, w});
        CHECK(max_abs_diff(g_fused[0], g_first[0]) < 1e-11);
        CHECK(max_abs_diff(g_fused[1], g_first[1]) < 1e-11);
      }
}

TEST_CASE("conv1d is conv2d on a height-1 image") {
  Generator gen(2);
  const Tensor x = normal({2, 3, 9}, 0, 1, gen, DType::f64);
  const Tensor w = normal({2, 3, 3}, 0, 1, gen, DType::f64), b = normal({2}, 0, 1, gen, DType::f64);
  const Tensor y = conv1d(x, w, b, 1, 1, ConvPadding::circular);
  CHECK(y.shape() == Shape{2, 2, 9});
  // Circular padding of a 1-D signal, by hand for output (0, 0, 0): taps at positions 8, 0, 1.
  const auto px = values(x), pw = values(w), pb = values(b);
  double expected = pb[0];
  for (int c = 0; c < 3; ++c)
    expected += pw[c * 3 + 0] * px[c * 9 + 8] + pw[c * 3 + 1] * px[c * 9 + 0] + pw[c * 3 + 2] * px[c * 9 + 1];
  CHECK(values(y)[0] == doctest::Approx(expected));
}

namespace {

// Checks that a and b hold the same values bit for bit, NaN where the other has NaN; returns the NaN count.
int check_same_values(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = values(a), vb = values(b);
  REQUIRE(va.size() == vb.size());
  int nans = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    CAPTURE(i);
    CHECK(std::isnan(va[i]) == std::isnan(vb[i]));
    if (std::isnan(va[i])) {
      ++nans;
    } else {
      CHECK(va[i] == vb[i]);
    }
  }
  return nans;
}

}  // namespace

TEST_CASE("max pooling's fused gradient equals the composed formula's, ties, crops and NaN included") {
  // Values from a few integers, so windows often tie; 5 x 7 leaves a row and a column outside every window.
  Generator gen(4);
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    std::vector<double> raw = values(uniform({2, 3, 5, 7}, 0.0, 3.0, gen, DType::f64));
    for (double& v : raw) v = std::floor(v);
    raw[8] = NAN;  // row 1, column 1 of the first image: in its window (0, 0)
    const Tensor x = from_vector(raw, {2, 3, 5, 7}, dtype);
    const Tensor weights = uniform({2, 3, 2, 3}, -1.0, 1.0, gen, dtype);
    const Tensor fused = grad([&](const Tensor& v) { return sum(max_pool2d(v, 2) * weights); }, x);
    const Tensor composed = grad(
        [&](const Tensor& v) {
          const Tensor cropped = slice(slice(v, 2, 0, 4), 3, 0, 6);
          return sum(max(reshape(cropped, {2, 3, 2, 2, 3, 2}), {3, 5}) * weights);
        },
        x);
    CHECK(check_same_values(fused, composed) == 4);  // the NaN window and nothing else
    // 1-D pooling goes through the same kernel.
    const Tensor s = reshape(x, {6, 5, 7});
    const Tensor fused_1d = grad([](const Tensor& v) { return sum(square(max_pool1d(v, 3))); }, s);
    const Tensor composed_1d = grad(
        [](const Tensor& v) {
          return sum(square(max(reshape(slice(v, 2, 0, 6), {6, 5, 2, 3}), {3})));
        },
        s);
    CHECK(check_same_values(fused_1d, composed_1d) == 3);
  }
}

TEST_CASE("pooling and upsampling by hand") {
  const Tensor x = from_vector({1, 5, 2, 0, 3, 4, 8, 7, -1, 6, 9, 2, 0, 0, 1, 3}, {1, 1, 4, 4}, DType::f64);
  CHECK(values(max_pool2d(x, 2)) == std::vector<double>{5, 8, 6, 9});
  CHECK(values(avg_pool2d(x, 2)) == std::vector<double>{13.0 / 4, 17.0 / 4, 5.0 / 4, 15.0 / 4});
  const Tensor s = from_vector({1, 2, 3, 4}, {1, 1, 4}, DType::f64);
  CHECK(values(max_pool1d(s, 3)) == std::vector<double>{3});
  CHECK(values(upsample_nearest(s, 2)) == std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4});
  // torch.nn.Upsample(scale_factor=2, mode="linear", align_corners=False) of [1, 2, 3, 4].
  CHECK(values(upsample_linear(s, 2)) == std::vector<double>{1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4});
  const Tensor m = from_vector({1, 2, 3, 4}, {1, 1, 2, 2}, DType::f64);
  // Bilinear is linear per axis: row 0 of the output is the 1-D upsampling of [1, 2].
  const auto up = values(upsample_linear(m, 2));
  CHECK(up.size() == 16);
  CHECK(std::vector<double>(up.begin(), up.begin() + 4) == std::vector<double>{1, 1.25, 1.75, 2});
  CHECK(std::vector<double>(up.begin() + 4, up.begin() + 8) == std::vector<double>{1.5, 1.75, 2.25, 2.5});
}

TEST_CASE("activations by hand") {
  const Tensor x = from_vector({-2, 0, 3}, {3}, DType::f64);
  CHECK(values(leaky_relu(x, 0.1)) == std::vector<double>{-0.2, 0, 3});
  CHECK(values(softplus(x))[1] == doctest::Approx(std::log(2.0)));
  CHECK(values(softplus(from_vector({800.0}, {1}, DType::f64)))[0] == doctest::Approx(800.0));
  CHECK(values(gelu(x))[2] == doctest::Approx(3 * 0.5 * (1 + std::erf(3 / std::sqrt(2.0)))));
}

TEST_CASE("BatchNorm: batch statistics in train mode, running statistics in eval mode") {
  nn::BatchNorm bn(2, 1e-5, 0.1, DType::f64);
  Generator gen(3);
  const Tensor x = normal({8, 2, 3, 3}, 2.0, 3.0, gen, DType::f64);
  const Tensor y = bn(x);
  const auto mean_per_channel = values(mean(y, {0, 2, 3}));
  const auto var_per_channel = values(mean(square(y), {0, 2, 3}));
  for (int c = 0; c < 2; ++c) {
    CHECK(std::abs(mean_per_channel[c]) < 1e-12);
    CHECK(var_per_channel[c] == doctest::Approx(1.0).epsilon(1e-4));
  }
  // Running statistics: 0.9 · initial + 0.1 · batch (unbiased variance, n = 72 per channel).
  const auto mu = values(mean(x, {0, 2, 3}));
  const auto biased =
      values(mean(square(x - reshape(from_vector(mu, {2}, DType::f64), {1, 2, 1, 1})), {0, 2, 3}));
  for (int c = 0; c < 2; ++c) {
    CHECK(values(bn.running_mean)[c] == doctest::Approx(0.1 * mu[c]));
    CHECK(values(bn.running_var)[c] == doctest::Approx(0.9 + 0.1 * biased[c] * 72.0 / 71.0));
  }
  bn.eval();
  const Tensor z = bn(x);
  const double expected =
      (values(x)[0] - values(bn.running_mean)[0]) / std::sqrt(values(bn.running_var)[0] + 1e-5);
  CHECK(values(z)[0] == doctest::Approx(expected));
}

TEST_CASE("fused training-mode batch norm equals the composed formula, values and gradients, f32 and f64") {
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    Generator gen(9);
    const std::vector<Tensor> inputs{normal({5, 3, 4, 6}, 2.0, 3.0, gen, dtype),
                                     normal({3}, 1.0, 0.5, gen, dtype), normal({3}, 0.0, 1.0, gen, dtype)};
    const Tensor target = normal({5, 3, 4, 6}, 0.0, 1.0, gen, dtype);
    // The composed formula, written independently of the op.
    const Function composed = [](const std::vector<Tensor>& v) {
      const Tensor mu = mean(v[0], {0, 2, 3}, true);
      const Tensor var = mean(square(v[0] - mu), {0, 2, 3}, true);
      return (v[0] - mu) / sqrt(var + 1e-5) * reshape(v[1], {1, 3, 1, 1}) + reshape(v[2], {1, 3, 1, 1});
    };
    const Function fused = [](const std::vector<Tensor>& v) {
      return batch_norm_train(v[0], v[1], v[2], 1e-5);
    };
    const double tol = dtype == DType::f32 ? 1e-5 : 1e-12;
    CHECK(test::max_abs_diff(fused(inputs), composed(inputs)) < tol);
    const auto loss_of = [&](const Function& f) {
      return Function([&f, &target](const std::vector<Tensor>& v) { return sum(square(f(v) - target)); });
    };
    const std::vector<Tensor> fused_grads = grad(loss_of(fused), inputs),
                              composed_grads = grad(loss_of(composed), inputs);
    for (std::size_t i = 0; i < 3; ++i) {
      CAPTURE(i);
      CHECK(test::max_abs_diff(fused_grads[i], composed_grads[i]) <
            tol * (1.0 + test::max_abs(composed_grads[i])) * 10);
    }
    // The batch statistics it hands out for the running averages.
    Tensor batch_mean, batch_var;
    batch_norm_train(inputs[0], inputs[1], inputs[2], 1e-5, &batch_mean, &batch_var);
    CHECK(test::max_abs_diff(batch_mean, mean(inputs[0], {0, 2, 3})) < tol * 10);
    CHECK(!batch_mean.requires_grad());
  }
}

TEST_CASE("Linear, Sequential and parameter naming") {
  Generator gen(4);
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Linear>(3, 5, gen, true, DType::f64));
  net->add(std::make_shared<nn::Lambda>([](const Tensor& t) { return tanh(t); }));
  net->add(std::make_shared<nn::Linear>(5, 2, gen, true, DType::f64));
  CHECK(net->num_parameters() == 3 * 5 + 5 + 5 * 2 + 2);
  const auto named = net->named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "0.weight");
  CHECK(named[3].first == "2.bias");
  CHECK((*net)(ones({4, 3}, DType::f64)).shape() == Shape{4, 2});
  // PyTorch's default init bound 1/√fan_in.
  CHECK(nn::fan_in({5, 3}) == 3);
  CHECK(max(abs(named[0].second)).item() <= 1.0 / std::sqrt(3.0));
  CHECK(contains(error_message([&] { (*net)(ones({4, 4}, DType::f64)); }), "Linear"));
  // Gradients reach every parameter.
  backward(sum((*net)(ones({4, 3}, DType::f64))));
  for (const auto& [name, p] : named) CHECK(p.grad().defined());
}

TEST_CASE("positional encoding features") {
  nn::PositionalEncoding pe({1.0, 2.0});
  const Tensor y = pe(from_vector({0.5, -1.0}, {1, 2}, DType::f64));
  CHECK(y.shape() == Shape{1, 8});
  const auto v = values(y);
  CHECK(v[0] == doctest::Approx(std::sin(0.5)));
  CHECK(v[1] == doctest::Approx(std::cos(0.5)));
  CHECK(v[2] == doctest::Approx(std::sin(1.0)));
  CHECK(v[7] == doctest::Approx(std::cos(-2.0)));
}

TEST_CASE("every layer: f64 gradients in input and parameters match finite differences") {
  Generator gen(11);
  struct LayerCase {
    const char* name;
    std::shared_ptr<nn::Module> layer;
    Shape input;
  };
  const std::vector<LayerCase> cases{
      {"Linear", std::make_shared<nn::Linear>(3, 4, gen, true, DType::f64), {2, 3}},
      {"Conv1d",
       std::make_shared<nn::Conv1d>(2, 3, 3, gen, nn::Padding::same, ConvPadding::circular, 1, true,
                                    DType::f64),
       {2, 2, 6}},
      {"Conv2d",
       std::make_shared<nn::Conv2d>(2, 2, 3, gen, nn::Padding::same, ConvPadding::zeros, 1, true, DType::f64),
       {2, 2, 4, 5}},
      {"Conv2d (valid, stride 2)",
       std::make_shared<nn::Conv2d>(1, 2, 3, gen, nn::Padding::valid, ConvPadding::valid, 2, true,
                                    DType::f64),
       {1, 1, 7, 7}},
      {"BatchNorm (train)", std::make_shared<nn::BatchNorm>(2, 1e-5, 0.1, DType::f64), {3, 2, 4}},
      {"MaxPool", std::make_shared<nn::MaxPool>(2), {1, 2, 4, 4}},
      {"AvgPool", std::make_shared<nn::AvgPool>(2), {1, 2, 4, 4}},
      {"Upsample (bilinear)", std::make_shared<nn::Upsample>(2, nn::Upsample::Mode::linear), {1, 1, 3, 3}},
      {"PositionalEncoding", std::make_shared<nn::PositionalEncoding>(std::vector<double>{1.0, 3.0}), {2, 2}},
      {"Flatten", std::make_shared<nn::Flatten>(), {2, 2, 3}},
  };
  for (const LayerCase& c : cases) {
    INFO(std::string(c.name));
    std::vector<Tensor> inputs{normal(c.input, 0, 1, gen, DType::f64)};
    const std::size_t params = c.layer->parameters().size();
    for (const Tensor& p : c.layer->parameters()) inputs.push_back(p.detach().clone());
    const Tensor weights = normal(c.layer->forward(inputs[0]).shape(), 0, 1, gen, DType::f64);
    // Analytic gradients first: of the input by grad(), of the parameters by backward() into .grad.
    const Function of_input = [&](const std::vector<Tensor>& v) {
      return sum(c.layer->forward(v[0]) * weights);
    };
    const Tensor analytic_input = grad(of_input, {inputs[0]})[0];
    c.layer->zero_grad();
    if (params > 0) backward(of_input({inputs[0]}));
    std::vector<Tensor> analytic_params;
    for (const Tensor& p : c.layer->parameters()) analytic_params.push_back(p.grad());
    // Finite differences with the parameters set to v[1..] (recorded graphs are gone by now, so the in-place
    // writes are allowed), then the original values restored.
    std::vector<Tensor> named = c.layer->parameters();
    const Function loss = [&](const std::vector<Tensor>& v) {
      NoGradGuard no_grad;
      for (std::size_t i = 0; i < params; ++i) named[i].copy_(v[i + 1]);
      return sum(c.layer->forward(v[0]) * weights);
    };
    const Tensor fd_input = dphys::test::finite_difference_gradient(loss, inputs, 0);
    CHECK(dphys::test::max_abs_diff(analytic_input, fd_input) < 1e-7 * (1 + dphys::test::max_abs(fd_input)));
    for (std::size_t i = 0; i < params; ++i) {
      const Tensor fd = dphys::test::finite_difference_gradient(loss, inputs, i + 1);
      CHECK(dphys::test::max_abs_diff(analytic_params[i], fd) < 1e-7 * (1 + dphys::test::max_abs(fd)));
    }
    loss(inputs);  // restores the parameters (inputs[1..] hold their original values)
  }
}

TEST_CASE("batch_norm_train refuses a negative or NaN eps") {
  // eps = -1 or NaN gave NaN outputs instead of an error.
  const Tensor x = ones({4, 2, 3}, DType::f64), w = ones({2}, DType::f64), b = zeros({2}, DType::f64);
  CHECK(contains(error_message([&] { batch_norm_train(x, w, b, -1.0); }), "eps -1 must be finite and >= 0"));
  CHECK(contains(error_message([&] { batch_norm_train(x, w, b, NAN); }), "must be finite and >= 0"));
}

TEST_CASE("layers with no features or channels, and BatchNorm with a bad momentum, are errors") {
  // Linear(3, 0) and Conv2d(2, 0, 3) crashed with SIGFPE (fan-in divided by 0); a NaN momentum made the
  // running statistics NaN.
  Generator gen(1);
  CHECK(contains(error_message([&] { nn::Linear(3, 0, gen); }),
                 "Linear: needs at least one input and one output"));
  CHECK(contains(error_message([&] { nn::Linear(0, 3, gen); }), "Linear: needs at least one input"));
  CHECK(contains(error_message([&] { nn::Conv2d(2, 0, 3, gen); }),
                 "Conv2d: needs at least one input and one output"));
  CHECK(contains(error_message([&] { nn::Conv1d(0, 2, 3, gen); }), "Conv1d: needs at least one input"));
  CHECK(contains(error_message([] { nn::BatchNorm(0); }), "BatchNorm: needs channels >= 1"));
  CHECK(contains(error_message([] { nn::BatchNorm(4, 1e-5, NAN); }), "momentum in [0, 1]"));
}
