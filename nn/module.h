#pragma once
// Modules: named, ordered parameters and buffers, nested children, train/eval mode.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dphys::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Depth-first, in registration order; names are dotted paths ("down1.conv1.weight").
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  std::int64_t num_parameters() const;
  // Non-trainable state (BatchNorm running statistics).
  NamedTensors named_buffers() const;

  void train(bool training = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves parameters and buffers to `device` in place: handles held elsewhere (optimizers, layers) see the
  // move. Accumulated gradients are dropped.
  void to(Device device);
  void zero_grad();

 protected:
  // Registers a trainable tensor (made a leaf that requires grad) and returns the stored handle.
  Tensor register_parameter(std::string name, Tensor value);
  Tensor register_buffer(std::string name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }

 private:
  void collect(const std::string& prefix, bool buffers, NamedTensors& out) const;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace dphys::nn
