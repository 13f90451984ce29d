// Network ops. Convolution is three engine kernels that are each other's adjoints (conv, its input
// gradient, its weight gradient), recorded so every derivative order is available (AdaHessian needs HVPs
// through conv nets). Pooling, upsampling and the activations are compositions of existing ops.
#include "autodiff/nn_ops.h"

#include <array>
#include <cmath>
#include <memory>

#include "autodiff/grad_mode.h"
#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/batch_norm.h"
#include "engine/constant_cache.h"
#include "engine/conv.h"
#include "engine/max_pool.h"

namespace dphys {

using Grads = std::vector<Tensor>;

namespace {

using kernel::ConvPad;

Tensor conv_input_grad(const Tensor& g, const Tensor& w, std::int64_t stride, std::int64_t h, std::int64_t wd,
                       ConvPad pad);
Tensor conv_weight_grad(const Tensor& x, const Tensor& g, std::int64_t stride, std::int64_t kh,
                        std::int64_t kw, ConvPad pad);

// 2-D cross-correlation of the padded input, differentiable to any order. The padding is read inside the
// kernels, so the gradient needs no adjoint of a padding op.
Tensor conv(const Tensor& x, const Tensor& w, std::int64_t stride, ConvPad pad) {
  Tensor out = kernel::conv2d(x, w, stride, pad);
  if (!needs_grad(x, w)) return out;
  return record("conv2d", {x, w}, out,
                [sx = Saved(x), sw = Saved(w), stride, pad](const Tensor& g, const Tensor&) {
                  const Tensor &input = sx.get(), &weight = sw.get();
                  return Grads{conv_input_grad(g, weight, stride, input.shape()[2], input.shape()[3], pad),
                               conv_weight_grad(input, g, stride, weight.shape()[2], weight.shape()[3], pad)};
                });
}

// Aᵀ(w) g. Bilinear in (g, w): its VJP is conv(gy, w) for g and conv_weight_grad(gy, g) for w.
Tensor conv_input_grad(const Tensor& g, const Tensor& w, std::int64_t stride, std::int64_t h, std::int64_t wd,
                       ConvPad pad) {
  Tensor out = kernel::conv2d_input_grad(g, w, stride, h, wd, pad);
  if (!needs_grad(g, w)) return out;
  return record("conv2d_input_grad", {g, w}, out,
                [sg = Saved(g), sw = Saved(w), stride, pad](const Tensor& gy, const Tensor&) {
                  const Tensor &grad = sg.get(), &weight = sw.get();
                  return Grads{conv(gy, weight, stride, pad),
                               conv_weight_grad(gy, grad, stride, weight.shape()[2], weight.shape()[3], pad)};
                });
}

// Σ_b g_b ⊗ unfold(x_b). Bilinear in (x, g): its VJP is conv_input_grad(g, gy) for x and conv(x, gy) for g.
Tensor conv_weight_grad(const Tensor& x, const Tensor& g, std::int64_t stride, std::int64_t kh,
                        std::int64_t kw, ConvPad pad) {
  Tensor out = kernel::conv2d_weight_grad(x, g, stride, kh, kw, pad);
  if (!needs_grad(x, g)) return out;
  return record("conv2d_weight_grad", {x, g}, out,
                [sx = Saved(x), sg = Saved(g), stride, pad](const Tensor& gy, const Tensor&) {
                  const Tensor &input = sx.get(), &grad = sg.get();
                  return Grads{conv_input_grad(grad, gy, stride, input.shape()[2], input.shape()[3], pad),
                               conv(input, gy, stride, pad)};
                });
}

// The padding of the layer API for a convolution over the trailing `spatial_dims` of H, W (1: W only).
ConvPad conv_pad(int spatial_dims, std::int64_t padding, ConvPadding mode) {
  DPHYS_CHECK(padding >= 0, "conv: padding must be >= 0, got {}", padding);
  if (mode == ConvPadding::valid) return {};
  return {spatial_dims == 2 ? padding : 0, padding, mode == ConvPadding::circular};
}

void check_rank(const char* op, const Tensor& x, int rank, const char* layout) {
  DPHYS_CHECK(x.dim() == rank, "{}: expected input {}, got shape {}", op, layout, shape_str(x.shape()));
}

Tensor add_channel_bias(const Tensor& y, const Tensor& bias, int spatial_dims) {
  if (!bias.defined()) return y;
  DPHYS_CHECK(bias.dim() == 1 && bias.shape()[0] == y.shape()[1],
              "conv: bias {} does not match {} output channels", shape_str(bias.shape()), y.shape()[1]);
  Shape shape{1, bias.shape()[0]};
  shape.insert(shape.end(), spatial_dims, 1);
  return y + reshape(bias, shape);
}

// Windows of size k along the trailing `spatial_dims` axes, exposed as extra axes after each spatial axis.
Tensor windows(const char* op, const Tensor& x, int spatial_dims, std::int64_t k) {
  DPHYS_CHECK(k >= 1, "{}: kernel must be at least 1, got {}", op, k);
  Tensor cropped = x;
  Shape shape(x.shape().begin(), x.shape().end() - spatial_dims);
  for (int d = x.dim() - spatial_dims; d < x.dim(); ++d) {
    const std::int64_t n = x.shape()[d] / k;
    DPHYS_CHECK(n >= 1, "{}: window {} is larger than axis {} of shape {}", op, k, d, shape_str(x.shape()));
    if (n * k != x.shape()[d]) cropped = slice(cropped, d, 0, n * k);
    shape.push_back(n);
    shape.push_back(k);
  }
  return reshape(cropped, shape);
}

std::vector<int> window_axes(const Tensor& x, int spatial_dims) {
  std::vector<int> axes;
  for (int i = 0; i < spatial_dims; ++i) axes.push_back(x.dim() - spatial_dims + 2 * i + 1);
  return axes;
}

Tensor pool(const char* op, const Tensor& x, int spatial_dims, std::int64_t k, bool take_max) {
  check_rank(op, x, 2 + spatial_dims, spatial_dims == 1 ? "[B, C, L]" : "[B, C, H, W]");
  const auto composed = [op, spatial_dims, k, take_max](const Tensor& in) {
    const Tensor w = windows(op, in, spatial_dims, k);
    const std::vector<int> axes = window_axes(in, spatial_dims);
    return take_max ? max(w, axes) : mean(w, axes);
  };
  if (!take_max) return composed(x);
  // Max pooling's first derivative is one pass over the windows (the composed one broadcasts a mask, a tie
  // count and the gradient over short window axes); higher derivatives differentiate the composed formula.
  const Function forward = [composed](const std::vector<Tensor>& in) { return composed(in[0]); };
  const CustomBackward backward = [composed, spatial_dims, k](const Tensor& g, const std::vector<Tensor>& in,
                                                              const Tensor& y) {
    if (GradMode::enabled())
      return vjp([composed](const std::vector<Tensor>& v) { return composed(v[0]); }, in, g).second;
    if (spatial_dims == 2) return std::vector<Tensor>{kernel::max_pool_backward(in[0], y, g, k, k)};
    const Tensor dx = kernel::max_pool_backward(unsqueeze(in[0], 2), unsqueeze(y, 2), unsqueeze(g, 2), 1, k);
    return std::vector<Tensor>{squeeze(dx, 2)};
  };
  return custom_op(op, {x}, forward, backward);
}

// Output i of a linear upsampling by `factor` samples its n inputs at (i + 1/2)/f − 1/2 (align_corners =
// false), clamped to the first element at the left edge, as PyTorch does. Returns the lower neighbours, the
// upper ones and the upper one's weight, each [n·factor] on `device`, copied there once
// (engine/constant_cache.h).
std::array<Tensor, 3> interpolation_table(std::int64_t n, std::int64_t factor, DType dtype, Device device) {
  const std::int64_t m = n * factor;
  std::vector<std::int64_t> lower(m), upper(m);
  std::vector<double> weight_upper(m);
  for (std::int64_t i = 0; i < m; ++i) {
    const double source = std::max(0.0, (i + 0.5) / static_cast<double>(factor) - 0.5);
    lower[i] = std::min(static_cast<std::int64_t>(source), n - 1);
    upper[i] = std::min(lower[i] + 1, n - 1);
    weight_upper[i] = source - static_cast<double>(lower[i]);
  }
  const std::string key = fmt::format("upsample linear {} x{} {}", n, factor, dtype_name(dtype));
  return {cached_constant(key + " lower", device, [&] { return from_indices(lower, {m}); }),
          cached_constant(key + " upper", device, [&] { return from_indices(upper, {m}); }),
          cached_constant(key + " weight", device, [&] { return from_vector(weight_upper, {m}, dtype); })};
}

Tensor upsample_axis_linear(const Tensor& x, int axis, std::int64_t factor) {
  const auto [lower, upper, weight_upper] =
      interpolation_table(x.shape()[axis], factor, x.dtype(), x.device());
  Shape weight_shape(x.dim(), 1);
  weight_shape[axis] = x.shape()[axis] * factor;
  const Tensor wu = reshape(weight_upper, weight_shape);
  return index_select(x, axis, lower) * (1.0 - wu) + index_select(x, axis, upper) * wu;
}

// batch_norm_train written with differentiable ops, for its higher derivatives.
Tensor batch_norm_composed(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  std::vector<int> axes{0};
  Shape stat_shape{1, x.shape()[1]};
  for (int d = 2; d < x.dim(); ++d) {
    axes.push_back(d);
    stat_shape.push_back(1);
  }
  const Tensor centred = x - mean(x, axes, true);
  return centred / sqrt(mean(square(centred), axes, true) + eps) * reshape(weight, stat_shape) +
         reshape(bias, stat_shape);
}

}  // namespace

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        Tensor* batch_mean, Tensor* batch_var) {
  DPHYS_CHECK(x.dim() >= 2 && weight.shape() == Shape{x.shape()[1]} && bias.shape() == weight.shape(),
              "batch_norm: input {} with weight {} and bias {}: expected [N, C, ...] and [C]",
              shape_str(x.shape()), shape_str(weight.shape()), shape_str(bias.shape()));
  DPHYS_CHECK(eps >= 0 && std::isfinite(eps), "batch_norm: eps {} must be finite and >= 0", eps);
  // The statistics of the forward pass, for the running averages and the fused backward.
  auto statistics = std::make_shared<std::array<Tensor, 2>>();
  const Function forward = [statistics, eps](const std::vector<Tensor>& in) {
    *statistics = kernel::batch_norm_statistics(in[0]);
    return kernel::batch_norm_apply(in[0], (*statistics)[0], (*statistics)[1], in[1], in[2], eps);
  };
  const CustomBackward backward = [statistics, eps](const Tensor& g, const std::vector<Tensor>& in,
                                                    const Tensor&) {
    if (GradMode::enabled())  // a higher derivative: differentiate the composed formula instead
      return vjp([eps](const std::vector<Tensor>& v) { return batch_norm_composed(v[0], v[1], v[2], eps); },
                 in, g)
          .second;
    const auto [dx, dweight, dbias] =
        kernel::batch_norm_backward(g, in[0], (*statistics)[0], (*statistics)[1], in[1], eps);
    return std::vector<Tensor>{dx, dweight, dbias};
  };
  Tensor y = custom_op("batch_norm", {x, weight, bias}, forward, backward);
  if (batch_mean != nullptr) *batch_mean = (*statistics)[0];
  if (batch_var != nullptr) *batch_var = (*statistics)[1];
  return y;
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t stride,
              std::int64_t padding, ConvPadding mode) {
  check_rank("conv1d", x, 3, "[B, C, L]");
  check_rank("conv1d", weight, 3, "weight [O, C, K]");
  const Tensor y = conv(unsqueeze(x, 2), unsqueeze(weight, 2), stride, conv_pad(1, padding, mode));
  return add_channel_bias(squeeze(y, 2), bias, 1);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t stride,
              std::int64_t padding, ConvPadding mode) {
  check_rank("conv2d", x, 4, "[B, C, H, W]");
  check_rank("conv2d", weight, 4, "weight [O, C, KH, KW]");
  return add_channel_bias(conv(x, weight, stride, conv_pad(2, padding, mode)), bias, 2);
}

Tensor max_pool1d(const Tensor& x, std::int64_t kernel) { return pool("max_pool1d", x, 1, kernel, true); }
Tensor max_pool2d(const Tensor& x, std::int64_t kernel) { return pool("max_pool2d", x, 2, kernel, true); }
Tensor avg_pool1d(const Tensor& x, std::int64_t kernel) { return pool("avg_pool1d", x, 1, kernel, false); }
Tensor avg_pool2d(const Tensor& x, std::int64_t kernel) { return pool("avg_pool2d", x, 2, kernel, false); }

Tensor upsample_nearest(const Tensor& x, std::int64_t factor) {
  DPHYS_CHECK(x.dim() == 3 || x.dim() == 4, "upsample_nearest: expected [B, C, L] or [B, C, H, W], got {}",
              shape_str(x.shape()));
  DPHYS_CHECK(factor >= 1, "upsample_nearest: factor must be at least 1, got {}", factor);
  // Each element becomes a factor^d block: insert a unit axis after every spatial axis and broadcast it.
  Shape expanded(x.shape().begin(), x.shape().begin() + 2), target = expanded, result = expanded;
  for (int d = 2; d < x.dim(); ++d) {
    expanded.insert(expanded.end(), {x.shape()[d], 1});
    target.insert(target.end(), {x.shape()[d], factor});
    result.push_back(x.shape()[d] * factor);
  }
  return reshape(broadcast_to(reshape(x, expanded), target), result);
}

Tensor upsample_linear(const Tensor& x, std::int64_t factor) {
  DPHYS_CHECK(x.dim() == 3 || x.dim() == 4, "upsample_linear: expected [B, C, L] or [B, C, H, W], got {}",
              shape_str(x.shape()));
  DPHYS_CHECK(factor >= 1, "upsample_linear: factor must be at least 1, got {}", factor);
  Tensor y = x;
  for (int d = 2; d < x.dim(); ++d) y = upsample_axis_linear(y, d, factor);
  return y;
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return where(gt(x, scalar(0.0, x.dtype(), x.device())), x, x * negative_slope);
}

Tensor softplus(const Tensor& x) { return relu(x) + log(1.0 + exp(neg(abs(x)))); }

Tensor gelu(const Tensor& x) { return 0.5 * x * (1.0 + erf(x * M_SQRT1_2)); }

}  // namespace dphys
