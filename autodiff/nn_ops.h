#pragma once
// Differentiable ops for neural networks. Layouts follow PyTorch: 1-D data is [batch, channels, length],
// 2-D data is [batch, channels, height, width]; conv weights are [out, in, k] and [out, in, kh, kw].
#include "engine/tensor.h"

namespace dphys {

// How a convolution pads its input: none ("valid"), zeros, or periodically (circular).
enum class ConvPadding { valid, zeros, circular };

// Cross-correlation as in torch.nn.functional.conv1d/conv2d; `padding` pixels on each side (ignored for
// valid). bias may be undefined.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t stride = 1,
              std::int64_t padding = 0, ConvPadding mode = ConvPadding::zeros);
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t stride = 1,
              std::int64_t padding = 0, ConvPadding mode = ConvPadding::zeros);

// Non-overlapping windows (kernel = stride), as the papers' networks use; trailing elements that do not fill
// a window are dropped, as in PyTorch.
Tensor max_pool1d(const Tensor& x, std::int64_t kernel);
Tensor max_pool2d(const Tensor& x, std::int64_t kernel);
Tensor avg_pool1d(const Tensor& x, std::int64_t kernel);
Tensor avg_pool2d(const Tensor& x, std::int64_t kernel);

// Upsampling by an integer factor over the trailing 1 (for 3-D input) or 2 (for 4-D input) axes.
// Linear/bilinear use align_corners = false, as torch.nn.Upsample does by default.
Tensor upsample_nearest(const Tensor& x, std::int64_t factor);
Tensor upsample_linear(const Tensor& x, std::int64_t factor);

// Training-mode batch normalisation of x [N, C, ...] over every axis but 1, as torch's batch_norm with
// training=True: y = (x − mean) / √(var + ε) · weight + bias with the batch's mean and biased variance.
// `batch_mean` and `batch_var` ([C], no gradient) receive them for the running statistics. One op: its first
// derivatives are one fused pass; higher ones differentiate the composed formula.
Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        Tensor* batch_mean = nullptr, Tensor* batch_var = nullptr);

Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// log(1 + exp(x)), computed without overflow.
Tensor softplus(const Tensor& x);
// The tanh approximation of GELU is not used: this is the exact x·Φ(x) of torch.nn.GELU().
Tensor gelu(const Tensor& x);

}  // namespace dphys
