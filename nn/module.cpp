#include "nn/module.h"

#include "autodiff/grad_mode.h"

namespace dphys::nn {

Tensor Module::register_parameter(std::string name, Tensor value) {
  value.requires_grad_();
  parameters_.emplace_back(std::move(name), value);
  return value;
}

Tensor Module::register_buffer(std::string name, Tensor value) {
  buffers_.emplace_back(std::move(name), value);
  return value;
}

void Module::collect(const std::string& prefix, bool buffers, NamedTensors& out) const {
  for (const auto& [name, tensor] : buffers ? buffers_ : parameters_) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

std::int64_t Module::num_parameters() const {
  std::int64_t count = 0;
  for (const auto& [name, tensor] : named_parameters()) count += tensor.numel();
  return count;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

void Module::to(Device device) {
  // Every handle to a parameter shares its TensorImpl (layers keep their own copies of the handles), so the
  // storage is swapped inside it; the leaf node and its identity stay. Accumulated gradients are dropped.
  const auto move = [device](const NamedTensors& tensors) {
    for (const auto& [name, tensor] : tensors) {
      if (tensor.device() == device) continue;
      tensor.impl().storage = tensor.to(device).storage();
      tensor.impl().grad.reset();
    }
  };
  move(named_parameters());
  move(named_buffers());
}

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) tensor.zero_grad();
}

}  // namespace dphys::nn
