#include "engine/tensor.h"

#include <cstring>

#include "engine/dispatch.h"

namespace dphys {

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  auto storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return Tensor(std::make_shared<TensorImpl>(
      TensorImpl{std::move(shape), dtype, std::move(storage), nullptr, nullptr}));
}

std::int64_t Tensor::size(std::int64_t axis) const {
  return shape()[normalize_axis(axis, dim(), "Tensor::size", shape())];
}

void Tensor::check_element_type(DType requested, const char* op) const {
  DPHYS_CHECK(requested == dtype(), "{}: requested {} elements from a {} tensor of shape {}", op,
              dtype_name(requested), dtype_name(dtype()), shape_str(shape()));
}

double Tensor::item() const {
  DPHYS_CHECK(numel() == 1, "item: tensor of shape {} has {} elements, expected 1", shape_str(shape()),
              numel());
  return dispatch_all(dtype(), "item", [&](auto t) -> double {
    using T = decltype(t);
    if constexpr (std::is_arithmetic_v<T>) {
      return static_cast<double>(data<T>()[0]);
    } else {
      fail("item: complex tensor; read it with data<{}>()", dtype_name(dtype()));
    }
  });
}

Tensor Tensor::detach() const {
  return Tensor(std::make_shared<TensorImpl>(TensorImpl{shape(), dtype(), storage(), nullptr, nullptr}));
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  std::memcpy(out.raw_data(), raw_data(), numel() * dtype_size(dtype()));
  return out;
}

}  // namespace dphys
