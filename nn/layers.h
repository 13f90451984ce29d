#pragma once
// Layers. Each owns its parameters (registered with Module) and calls the differentiable ops.
#include <functional>

#include "autodiff/nn_ops.h"
#include "engine/random.h"
#include "nn/module.h"

namespace dphys::nn {

enum class Init { pytorch_default, xavier };

class Linear : public Module {
 public:
  Linear(std::int64_t in, std::int64_t out, Generator& gen, bool bias = true, DType dtype = DType::f32,
         Init init = Init::pytorch_default);
  // Input [..., in] -> [..., out].
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;  // weight [out, in]
};

// "same" padding keeps the size for odd kernels at stride 1; "valid" pads nothing.
enum class Padding { same, valid };

class Conv1d : public Module {
 public:
  Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel, Generator& gen,
         Padding padding = Padding::same, ConvPadding mode = ConvPadding::zeros, std::int64_t stride = 1,
         bool bias = true, DType dtype = DType::f32, Init init = Init::pytorch_default);
  Tensor forward(const Tensor& x) override;  // [B, in, L] -> [B, out, L']
  Tensor weight, bias;
  std::int64_t stride, padding;
  ConvPadding mode;
};

class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel, Generator& gen,
         Padding padding = Padding::same, ConvPadding mode = ConvPadding::zeros, std::int64_t stride = 1,
         bool bias = true, DType dtype = DType::f32, Init init = Init::pytorch_default);
  Tensor forward(const Tensor& x) override;  // [B, in, H, W] -> [B, out, H', W']
  Tensor weight, bias;
  std::int64_t stride, padding;
  ConvPadding mode;
};

// Max or average pooling over non-overlapping windows of 1-D ([B, C, L]) or 2-D ([B, C, H, W]) input.
class MaxPool : public Module {
 public:
  explicit MaxPool(std::int64_t kernel) : kernel(kernel) {}
  Tensor forward(const Tensor& x) override;
  std::int64_t kernel;
};

class AvgPool : public Module {
 public:
  explicit AvgPool(std::int64_t kernel) : kernel(kernel) {}
  Tensor forward(const Tensor& x) override;
  std::int64_t kernel;
};

class Upsample : public Module {
 public:
  enum class Mode { nearest, linear };  // linear means bilinear for 2-D input
  Upsample(std::int64_t factor, Mode mode) : factor(factor), mode(mode) {}
  Tensor forward(const Tensor& x) override;
  std::int64_t factor;
  Mode mode;
};

// BatchNorm over axis 1 of [B, C], [B, C, L] or [B, C, H, W] (PyTorch's BatchNorm1d/2d): batch statistics
// (biased variance) in train mode, updating running statistics (unbiased variance) with `momentum`;
// running statistics in eval mode.
class BatchNorm : public Module {
 public:
  explicit BatchNorm(std::int64_t channels, double eps = 1e-5, double momentum = 0.1,
                     DType dtype = DType::f32);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var;
  double eps, momentum;
};

// An activation or any other parameter-free function as a module.
class Lambda : public Module {
 public:
  explicit Lambda(std::function<Tensor(const Tensor&)> f) : f_(std::move(f)) {}
  Tensor forward(const Tensor& x) override { return f_(x); }

 private:
  std::function<Tensor(const Tensor&)> f_;
};

// [B, ...] -> [B, prod(...)].
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// Sinusoidal features of scalar inputs (JPO spec §4.3): [B, n] -> [B, n·2·K]; input s_i becomes
// [sin(f_1 s_i), cos(f_1 s_i), ..., sin(f_K s_i), cos(f_K s_i)]. The raw value is not appended.
class PositionalEncoding : public Module {
 public:
  explicit PositionalEncoding(std::vector<double> frequencies) : frequencies(std::move(frequencies)) {}
  Tensor forward(const Tensor& x) override;
  std::vector<double> frequencies;
};

// Runs children in order.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    layers_.push_back(module);
    return register_module(std::to_string(layers_.size() - 1), std::move(module));
  }
  Tensor forward(const Tensor& x) override;
  std::size_t size() const { return layers_.size(); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace dphys::nn
