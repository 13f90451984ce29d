#include "engine/tensor.h"

#include <algorithm>

#include "engine/device_memory.h"
#include "engine/dispatch.h"

namespace dphys {

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  // Every extent, zero counted as one, multiplies into strides and byte counts: negative extents or a
  // product beyond int64 made storage of the wrong size (and reads past it) instead of an error.
  std::int64_t bytes = static_cast<std::int64_t>(dtype_size(dtype));
  for (const std::int64_t extent : shape) {
    DPHYS_CHECK(extent >= 0, "Tensor: shape {} has a negative extent", shape_str(shape));
    DPHYS_CHECK(!__builtin_mul_overflow(bytes, std::max<std::int64_t>(extent, 1), &bytes),
                "Tensor: shape {} of {} is beyond 2^63 bytes", shape_str(shape), dtype_name(dtype));
  }
  auto storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return Tensor(std::make_shared<TensorImpl>(
      TensorImpl{std::move(shape), dtype, std::move(storage), nullptr, nullptr}));
}

std::int64_t Tensor::size(std::int64_t axis) const {
  return shape()[normalize_axis(axis, dim(), "Tensor::size", shape())];
}

void Tensor::check_host_access(DType requested, const char* op) const {
  DPHYS_CHECK(requested == dtype(), "{}: requested {} elements from a {} tensor of shape {}", op,
              dtype_name(requested), dtype_name(dtype()), shape_str(shape()));
  DPHYS_CHECK(device().is_cpu(),
              "{}: the {} tensor of shape {} is on {}, and host code cannot read it; copy it with "
              "to(Device::cpu()) first, or the op called has no CUDA kernel yet",
              op, dtype_name(dtype()), shape_str(shape()), device().str());
}

void* Tensor::raw_data() const {
  DPHYS_CHECK(device().is_cpu(),
              "Tensor::raw_data: the tensor of shape {} is on {}; copy it with "
              "to(Device::cpu()) first",
              shape_str(shape()), device().str());
  return impl().storage->data();
}

double Tensor::item() const {
  DPHYS_CHECK(numel() == 1, "item: tensor of shape {} has {} elements, expected 1", shape_str(shape()),
              numel());
  if (!device().is_cpu()) return to(Device::cpu()).item();
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
  device_memory::copy(out.storage()->data(), device(), storage()->data(), device(),
                      numel() * dtype_size(dtype()));
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  device_memory::copy(out.storage()->data(), target, storage()->data(), device(),
                      numel() * dtype_size(dtype()));
  return out;
}

}  // namespace dphys
