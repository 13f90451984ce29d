#include "engine/matmul.h"

#include <Eigen/Core>

#include "engine/broadcast_loop.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/layout.h"

namespace dphys::kernel {

namespace {

// Row-major products through the column-major GEMM of cuBLAS: a row-major [m, n] matrix is its column-major
// transpose, so out = a·b is computed as outᵀ = bᵀ·aᵀ with the operands' memory as it is.
void device_matmul(const Tensor& a, const Tensor& b, const Tensor& out, std::int64_t m, std::int64_t n,
                   std::int64_t k, const Shape& batch) {
  check_device_dtype("matmul", a);
  if (k == 0) {  // cuBLAS rejects a leading dimension of 0; the empty sum is 0
    fill(out, 0.0);
    return;
  }
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2),
      batch_b(b.shape().begin(), b.shape().end() - 2);
  const std::int64_t batches = shape_numel(batch);
  const auto expanded = [&](const Tensor& x, const Shape& own_batch, std::int64_t rows, std::int64_t cols) {
    if (own_batch == batch) return x;
    Shape s = batch;
    s.push_back(rows);
    s.push_back(cols);
    return broadcast_to(x, s);
  };
  const Tensor full_a = expanded(a, batch_a, m, k);
  if (shape_numel(batch_b) == 1) {
    // One matrix b for every batch entry: a's rows stack into a single [batches·m, k] product.
    device_kernel::gemm_strided_batched(a.dtype(), false, n, batches * m, k, device_address(b), n, 0,
                                        device_address(full_a), k, 0, device_address(out), n, 0, 1);
    return;
  }
  const Tensor full_b = expanded(b, batch_b, k, n);
  device_kernel::gemm_strided_batched(a.dtype(), false, n, m, k, device_address(full_b), n, k * n,
                                      device_address(full_a), k, m * k, device_address(out), n, m * n,
                                      batches);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_device("matmul", a, b);
  DPHYS_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: operands need at least 2 axes, got shapes {} and {}",
              shape_str(a.shape()), shape_str(b.shape()));
  DPHYS_CHECK(a.dtype() == b.dtype(), "matmul: dtypes {} and {} differ (shapes {} and {})",
              dtype_name(a.dtype()), dtype_name(b.dtype()), shape_str(a.shape()), shape_str(b.shape()));
  const std::int64_t m = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1];
  const std::int64_t kb = b.shape()[b.dim() - 2], n = b.shape()[b.dim() - 1];
  DPHYS_CHECK(k == kb, "matmul: inner dimensions differ for shapes {} and {}", shape_str(a.shape()),
              shape_str(b.shape()));
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2),
      batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, "matmul");
  } catch (const Error&) {
    fail("matmul: batch axes of shapes {} and {} cannot be broadcast together", shape_str(a.shape()),
         shape_str(b.shape()));
  }
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (!out.device().is_cpu()) {
    device_matmul(a, b, out, m, n, k, batch);
    return out;
  }
  const Shape stride_a = broadcast_strides(batch_a, batch), stride_b = broadcast_strides(batch_b, batch);
  const std::int64_t batches = shape_numel(batch);
  dispatch_floating(a.dtype(), "matmul", [&](auto t) {
    using T = decltype(t);
    using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    // One batch entry per thread when there are many; Eigen parallelises a single large product itself.
    parallel_for(batches, m * n * k, [&](std::int64_t i) {
      std::int64_t off_a = 0, off_b = 0, rest = i;
      for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
        const std::int64_t idx = rest % batch[d];
        rest /= batch[d];
        off_a += idx * stride_a[d];
        off_b += idx * stride_b[d];
      }
      Eigen::Map<const Matrix> ma(pa + off_a * m * k, m, k);
      Eigen::Map<const Matrix> mb(pb + off_b * k * n, k, n);
      Eigen::Map<Matrix> mo(po + i * m * n, m, n);
      mo.noalias() = ma * mb;
    });
  });
  return out;
}

}  // namespace dphys::kernel
