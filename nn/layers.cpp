#include "nn/layers.h"

#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/nn_ops.h"
#include "autodiff/ops.h"
#include "nn/init.h"

namespace dphys::nn {

namespace {

Tensor init_weight(const Shape& shape, Generator& gen, DType dtype, Init init) {
  return init == Init::xavier ? xavier_uniform(shape, gen, dtype) : kaiming_uniform(shape, gen, dtype);
}

std::int64_t same_padding(const char* layer, std::int64_t kernel, Padding padding) {
  if (padding == Padding::valid) return 0;
  DPHYS_CHECK(kernel % 2 == 1, "{}: 'same' padding needs an odd kernel, got {}", layer, kernel);
  return kernel / 2;
}

}  // namespace

Linear::Linear(std::int64_t in, std::int64_t out, Generator& gen, bool with_bias, DType dtype, Init init) {
  DPHYS_CHECK(in >= 1 && out >= 1, "Linear: needs at least one input and one output feature, got {} -> {}",
              in, out);
  weight = register_parameter("weight", init_weight({out, in}, gen, dtype, init));
  if (with_bias) bias = register_parameter("bias", default_bias(out, in, gen, dtype));
}

Tensor Linear::forward(const Tensor& x) {
  DPHYS_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1],
              "Linear: input {} does not end in {} features", shape_str(x.shape()), weight.shape()[1]);
  const Tensor y = matmul(x.dim() == 1 ? unsqueeze(x, 0) : x, transpose(weight));
  const Tensor shaped = x.dim() == 1 ? squeeze(y, 0) : y;
  return bias.defined() ? shaped + bias : shaped;
}

Conv1d::Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel, Generator& gen, Padding pad_kind,
               ConvPadding pad_mode, std::int64_t conv_stride, bool with_bias, DType dtype, Init init)
    : stride(conv_stride), padding(same_padding("Conv1d", kernel, pad_kind)), mode(pad_mode) {
  DPHYS_CHECK(in >= 1 && out >= 1, "Conv1d: needs at least one input and one output channel, got {} -> {}",
              in, out);
  weight = register_parameter("weight", init_weight({out, in, kernel}, gen, dtype, init));
  if (with_bias) bias = register_parameter("bias", default_bias(out, in * kernel, gen, dtype));
}

Tensor Conv1d::forward(const Tensor& x) { return conv1d(x, weight, bias, stride, padding, mode); }

Conv2d::Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, Generator& gen, Padding pad_kind,
               ConvPadding pad_mode, std::int64_t conv_stride, bool with_bias, DType dtype, Init init)
    : stride(conv_stride), padding(same_padding("Conv2d", kernel, pad_kind)), mode(pad_mode) {
  DPHYS_CHECK(in >= 1 && out >= 1, "Conv2d: needs at least one input and one output channel, got {} -> {}",
              in, out);
  weight = register_parameter("weight", init_weight({out, in, kernel, kernel}, gen, dtype, init));
  if (with_bias) bias = register_parameter("bias", default_bias(out, in * kernel * kernel, gen, dtype));
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride, padding, mode); }

Tensor MaxPool::forward(const Tensor& x) {
  return x.dim() == 3 ? max_pool1d(x, kernel) : max_pool2d(x, kernel);
}

Tensor AvgPool::forward(const Tensor& x) {
  return x.dim() == 3 ? avg_pool1d(x, kernel) : avg_pool2d(x, kernel);
}

Tensor Upsample::forward(const Tensor& x) {
  return mode == Mode::nearest ? upsample_nearest(x, factor) : upsample_linear(x, factor);
}

BatchNorm::BatchNorm(std::int64_t channels, double epsilon, double momentum_, DType dtype)
    : eps(epsilon), momentum(momentum_) {
  // A NaN momentum made the running statistics NaN; zero channels divided by zero in forward.
  DPHYS_CHECK(channels >= 1 && eps >= 0 && std::isfinite(eps) && momentum >= 0 && momentum <= 1,
              "BatchNorm: needs channels >= 1, a finite eps >= 0 and momentum in [0, 1], got {}, {}, {}",
              channels, eps, momentum);
  weight = register_parameter("weight", ones({channels}, dtype));
  bias = register_parameter("bias", zeros({channels}, dtype));
  running_mean = register_buffer("running_mean", zeros({channels}, dtype));
  running_var = register_buffer("running_var", ones({channels}, dtype));
}

Tensor BatchNorm::forward(const Tensor& x) {
  const std::int64_t channels = weight.shape()[0];
  DPHYS_CHECK(x.dim() >= 2 && x.shape()[1] == channels,
              "BatchNorm: input {} does not have {} channels on axis 1", shape_str(x.shape()), channels);
  if (is_training()) {
    const std::int64_t count = x.numel() / channels;
    DPHYS_CHECK(count > 1, "BatchNorm: training needs more than one value per channel, got input {}",
                shape_str(x.shape()));
    Tensor batch_mean, batch_var;  // the variance biased, as PyTorch normalises with
    const Tensor y = batch_norm_train(x, weight, bias, eps, &batch_mean, &batch_var);
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    running_mean.mul_(1.0 - momentum).add_(batch_mean, momentum);
    running_var.mul_(1.0 - momentum).add_(batch_var, momentum * unbias);
    return y;
  }
  Shape stat_shape{1, channels};
  for (int d = 2; d < x.dim(); ++d) stat_shape.push_back(1);
  const Tensor mu = reshape(running_mean, stat_shape), var = reshape(running_var, stat_shape);
  return (x - mu) / sqrt(var + eps) * reshape(weight, stat_shape) + reshape(bias, stat_shape);
}

Tensor Flatten::forward(const Tensor& x) {
  DPHYS_CHECK(x.dim() >= 1, "Flatten: input must have a batch axis, got shape {}", shape_str(x.shape()));
  return reshape(x, {x.shape()[0], -1});
}

Tensor PositionalEncoding::forward(const Tensor& x) {
  DPHYS_CHECK(x.dim() == 2, "PositionalEncoding: expected [B, n], got {}", shape_str(x.shape()));
  std::vector<Tensor> features;
  const Tensor column = unsqueeze(x, 2);  // [B, n, 1]
  for (double f : frequencies) {
    features.push_back(sin(column * f));
    features.push_back(cos(column * f));
  }
  return reshape(concat(features, 2), {x.shape()[0], -1});
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace dphys::nn
