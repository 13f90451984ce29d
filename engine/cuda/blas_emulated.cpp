// The emulated device's GEMM: a plain loop with exactly cuBLAS's column-major conventions, so that the
// row-major wrapper in engine/matmul.cpp, which calls cuBLAS on a GPU, is tested without one.
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void gemm_typed(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
                std::int64_t stride_a, const T* b, std::int64_t ldb, std::int64_t stride_b, T* c,
                std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  for (std::int64_t p = 0; p < batch; ++p)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < m; ++i) {
        T sum = 0;
        for (std::int64_t l = 0; l < k; ++l)
          sum += a[p * stride_a + i + l * lda] * b[p * stride_b + l + j * ldb];
        c[p * stride_c + i + j * ldc] = sum;
      }
}

}  // namespace

void gemm_strided_batched(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const void* a,
                          std::int64_t lda, std::int64_t stride_a, const void* b, std::int64_t ldb,
                          std::int64_t stride_b, void* c, std::int64_t ldc, std::int64_t stride_c,
                          std::int64_t batch) {
  if (dtype == DType::f32)
    return gemm_typed(m, n, k, static_cast<const float*>(a), lda, stride_a, static_cast<const float*>(b), ldb,
                      stride_b, static_cast<float*>(c), ldc, stride_c, batch);
  gemm_typed(m, n, k, static_cast<const double*>(a), lda, stride_a, static_cast<const double*>(b), ldb,
             stride_b, static_cast<double*>(c), ldc, stride_c, batch);
}

}  // namespace dphys::device_kernel
