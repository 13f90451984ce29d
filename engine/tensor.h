#pragma once
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace dphys {

struct Node;  // autodiff/node.h: the recorded operation that produced a tensor.

struct TensorImpl {
  Shape shape;
  DType dtype = DType::f32;
  std::shared_ptr<Storage> storage;
  // Set when gradients flow through this tensor: the op that produced it, or a leaf node.
  std::shared_ptr<Node> node;
  // Gradient accumulated by `backward` into a leaf.
  std::shared_ptr<TensorImpl> grad;
};

// A dense, contiguous, row-major n-dimensional array on one device. Copies share storage; use `clone` for a
// deep copy. Differentiable ops on tensors are the free functions in autodiff/ops.h.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  // Uninitialised memory; creation functions (engine/creation.h) are the usual way in.
  static Tensor empty(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int dim() const { return static_cast<int>(impl().shape.size()); }
  std::int64_t size(std::int64_t axis) const;
  std::int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  // Typed access to the elements of a CPU tensor; T must match the dtype. A tensor on a CUDA device is
  // refused with an error: copy it with to(Device::cpu()) first (device kernels use storage()->data()).
  template <class T>
  T* data() const {
    check_host_access(dtype_of<T>::value, "Tensor::data");
    return static_cast<T*>(impl().storage->data());
  }
  void* raw_data() const;
  template <class T>
  std::vector<T> to_vector() const {
    if (!device().is_cpu()) return to(Device::cpu()).to_vector<T>();
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }
  // The single element of a one-element real tensor, as double.
  double item() const;

  // Same storage and shape, no gradient history.
  Tensor detach() const;
  // Deep copy with no gradient history.
  Tensor clone() const;
  // This tensor on `device`: itself when it is there already, else a copy with no gradient history (the
  // differentiable transfer is `to_device` in autodiff/ops.h).
  Tensor to(Device device) const;

  // In-place writes bump the storage version. They refuse tensors that take part in gradient recording;
  // do them under NoGradGuard (as optimizers do) or use the out-of-place ops.
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& source);
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(double factor);

  // Autodiff (defined in autodiff/tensor_autograd.cpp).
  bool requires_grad() const { return impl_ && impl_->node != nullptr; }
  Tensor& requires_grad_(bool requires = true);
  bool is_leaf() const;
  // Gradient accumulated by `backward`; undefined until one has run.
  Tensor grad() const;
  void zero_grad();
  // Replaces the accumulated gradient (gradient clipping, loading optimizer state); undefined clears it.
  void set_grad(const Tensor& grad) const;
  const std::shared_ptr<Node>& node() const { return impl().node; }

  std::string str() const;
  TensorImpl& impl() const {
    DPHYS_CHECK(impl_ != nullptr, "Tensor: use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  void check_host_access(DType requested, const char* op) const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace dphys

// fmt::print("{}", tensor) prints the same text as Tensor::str().
template <>
struct fmt::formatter<dphys::Tensor> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const dphys::Tensor& tensor, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(tensor.str(), ctx);
  }
};
