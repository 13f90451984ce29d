// The Tensor members that touch autodiff: leaves, .grad, and in-place writes (which must not corrupt a
// recorded graph).
#include "autodiff/node.h"
#include "engine/device_memory.h"
#include "engine/elementwise.h"

namespace dphys {

namespace {

// In-place writes cannot be recorded; with recording on they would silently cut the gradient.
void check_inplace(const char* op, const Tensor& target, const Tensor* source = nullptr) {
  const bool involved = target.requires_grad() || (source != nullptr && source->requires_grad());
  DPHYS_CHECK(!(GradMode::enabled() && involved),
              "{}: in-place write into a tensor of shape {} while gradients are recorded; use NoGradGuard or "
              "the out-of-place op",
              op, shape_str(target.shape()));
}

}  // namespace

Tensor& Tensor::requires_grad_(bool requires) {
  TensorImpl& self = impl();
  if (!requires) {
    DPHYS_CHECK(is_leaf(),
                "requires_grad_: cannot turn off gradients of a non-leaf tensor (shape {}); use detach()",
                shape_str(self.shape));
    self.node.reset();
    return *this;
  }
  DPHYS_CHECK(is_floating(self.dtype), "requires_grad_: {} tensors (shape {}) have no gradient",
              dtype_name(self.dtype), shape_str(self.shape));
  if (!self.node) self.node = make_leaf_node(impl_);
  return *this;
}

bool Tensor::is_leaf() const { return !impl().node || impl().node->is_leaf(); }

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::zero_grad() { impl().grad.reset(); }

void Tensor::set_grad(const Tensor& grad) const {
  DPHYS_CHECK(!grad.defined() || (grad.shape() == shape() && grad.dtype() == dtype()),
              "set_grad: gradient {} ({}) for a tensor {} ({})", shape_str(grad.shape()),
              dtype_name(grad.dtype()), shape_str(shape()), dtype_name(dtype()));
  impl().grad = grad.impl_ptr();
}

Tensor& Tensor::fill_(double value) {
  check_inplace("fill_", *this);
  kernel::fill(*this, value);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& source) {
  check_inplace("copy_", *this, &source);
  DPHYS_CHECK(source.shape() == shape(), "copy_: source shape {} differs from target shape {}",
              shape_str(source.shape()), shape_str(shape()));
  // Across devices this is the transfer; the dtype conversion happens on the source's device.
  const Tensor converted = kernel::cast(source, dtype());
  device_memory::copy(storage()->data(), device(), converted.storage()->data(), converted.device(),
                      numel() * dtype_size(dtype()));
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace("add_", *this, &other);
  kernel::add_inplace(*this, other, alpha);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::mul_(double factor) {
  check_inplace("mul_", *this);
  kernel::scale_inplace(*this, factor);
  storage()->bump_version();
  return *this;
}

}  // namespace dphys
