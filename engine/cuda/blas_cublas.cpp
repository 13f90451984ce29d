// GEMM and SYRK on the GPU through cuBLAS (64-bit-index API), on the default stream like every other kernel.
#include <cublas_v2.h>

#include "engine/device_kernels.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys::device_kernel {

namespace {

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail("{}: cuBLAS error {} ({})", what, cublasGetStatusName(status), cublasGetStatusString(status));
}

// Created on first use and kept: creating a handle costs milliseconds.
cublasHandle_t handle() {
  static const cublasHandle_t instance = [] {
    cublasHandle_t h = nullptr;
    cublasStatus_t status = cublasCreate(&h);
    if (status == CUBLAS_STATUS_ALLOC_FAILED) {  // its memory comes from outside the block cache
      device_memory::cache_clear();
      status = cublasCreate(&h);
    }
    check_cublas(status, "cublasCreate");
    return h;
  }();
  return instance;
}

}  // namespace

void gemm_strided_batched(DType dtype, bool transpose_a, std::int64_t m, std::int64_t n, std::int64_t k,
                          const void* a, std::int64_t lda, std::int64_t stride_a, const void* b,
                          std::int64_t ldb, std::int64_t stride_b, void* c, std::int64_t ldc,
                          std::int64_t stride_c, std::int64_t batch) {
  if (m == 0 || n == 0 || batch == 0) return;
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (dtype == DType::f32) {
    const float one = 1, zero = 0;
    check_cublas(
        cublasSgemmStridedBatched_64(handle(), op_a, CUBLAS_OP_N, m, n, k, &one, static_cast<const float*>(a),
                                     lda, stride_a, static_cast<const float*>(b), ldb, stride_b, &zero,
                                     static_cast<float*>(c), ldc, stride_c, batch),
        "matmul");
    return;
  }
  const double one = 1, zero = 0;
  check_cublas(
      cublasDgemmStridedBatched_64(handle(), op_a, CUBLAS_OP_N, m, n, k, &one, static_cast<const double*>(a),
                                   lda, stride_a, static_cast<const double*>(b), ldb, stride_b, &zero,
                                   static_cast<double*>(c), ldc, stride_c, batch),
      "matmul");
}

void syrk_lower(DType dtype, std::int64_t n, std::int64_t k, const void* a, void* c) {
  if (n == 0) return;
  if (dtype == DType::f32) {
    const float one = 1, zero = 0;
    check_cublas(cublasSsyrk_64(handle(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, n, k, &one,
                                static_cast<const float*>(a), k, &zero, static_cast<float*>(c), n),
                 "gram");
    return;
  }
  const double one = 1, zero = 0;
  check_cublas(cublasDsyrk_64(handle(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, n, k, &one,
                              static_cast<const double*>(a), k, &zero, static_cast<double*>(c), n),
               "gram");
}

}  // namespace dphys::device_kernel
