#pragma once
// What the tensor-level functions use to hand work to the device kernels (engine/device_kernels.h).
#include <array>

#include "engine/broadcast_loop.h"
#include "engine/device_kernels.h"
#include "engine/tensor.h"

namespace dphys {

// Where a tensor's elements are on its device (Tensor::data is for host tensors only).
inline void* device_address(const Tensor& x) { return x.storage()->data(); }

// The same, typed, for kernels that take f64 scratch or i64 indices: T must match the dtype.
template <class T>
T* device_data(const Tensor& x) {
  DPHYS_CHECK(x.dtype() == dtype_of<T>::value,
              "device_data: requested {} elements from a {} tensor of shape {}",
              dtype_name(dtype_of<T>::value), dtype_name(x.dtype()), shape_str(x.shape()));
  return static_cast<T*>(device_address(x));
}

// The device kernels do arithmetic in f32 and f64 (and move i64 indices where `allow_index` says so).
inline void check_device_dtype(const char* op, const Tensor& x, bool allow_index = false) {
  const DType d = x.dtype();
  DPHYS_CHECK(d == DType::f32 || d == DType::f64 || (allow_index && d == DType::i64),
              "{}: dtype {} (shape {}) has no kernel on {} yet; compute it on the CPU", op, dtype_name(d),
              shape_str(x.shape()), x.device().str());
}

// The iteration over `shape` with operands walked by `strides`, adjacent axes merged where every operand
// allows it.
template <std::size_t N>
device_kernel::Indexing<static_cast<int>(N)> device_indexing(const char* op, Shape shape,
                                                             std::array<Shape, N> strides) {
  coalesce(shape, strides);
  DPHYS_CHECK(shape.size() <= static_cast<std::size_t>(device_kernel::kMaxDims),
              "{}: {} axes that cannot be merged; the device kernels take at most {}", op, shape.size(),
              device_kernel::kMaxDims);
  device_kernel::Indexing<static_cast<int>(N)> index;
  index.ndim = static_cast<int>(shape.size());
  for (int d = 0; d < index.ndim; ++d) {
    index.shape[d] = shape[d];
    for (std::size_t k = 0; k < N; ++k) index.strides[k][d] = strides[k][d];
  }
  return index;
}

}  // namespace dphys
