// The emulated device's cuBLAS and cuSOLVER: plain loops and Eigen with exactly those libraries'
// column-major conventions (which triangle is read and written, where U and Vᵀ go), so that the row-major
// wrappers in engine/matmul.cpp and engine/linalg.cpp, which call the libraries on a GPU, are tested
// without one.
#include <Eigen/Dense>

#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void gemm_typed(bool transpose_a, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
                std::int64_t lda, std::int64_t stride_a, const T* b, std::int64_t ldb, std::int64_t stride_b,
                T* c, std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  // op(A)[i, l]: A[i, l] at i + l·lda, or Aᵀ[i, l] = A[l, i] at l + i·lda.
  const std::int64_t row_step = transpose_a ? lda : 1, inner_step = transpose_a ? 1 : lda;
  for (std::int64_t p = 0; p < batch; ++p)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < m; ++i) {
        T sum = 0;
        for (std::int64_t l = 0; l < k; ++l)
          sum += a[p * stride_a + i * row_step + l * inner_step] * b[p * stride_b + l + j * ldb];
        c[p * stride_c + i + j * ldc] = sum;
      }
}

template <class T>
using ColumnMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
void syrk_typed(std::int64_t n, std::int64_t k, const T* a, T* c) {
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = j; i < n; ++i) {  // lower triangle only, as cuBLAS with CUBLAS_FILL_MODE_LOWER
      T sum = 0;
      for (std::int64_t l = 0; l < k; ++l) sum += a[l + i * k] * a[l + j * k];
      c[i + j * n] = sum;
    }
}

template <class T>
int symmetric_eigen_typed(std::int64_t n, T* a, T* w) {
  Eigen::Map<ColumnMatrix<T>> m(a, n, n);
  // Only the upper triangle is read, as syevd with CUBLAS_FILL_MODE_UPPER.
  const ColumnMatrix<T> upper = m.template selfadjointView<Eigen::Upper>();
  const Eigen::SelfAdjointEigenSolver<ColumnMatrix<T>> result(upper);
  if (result.info() != Eigen::Success) return 1;
  m = result.eigenvectors();
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(w, n) = result.eigenvalues();
  return 0;
}

template <class T>
int thin_svd_typed(std::int64_t m, std::int64_t n, T* a, T* u, T* s, T* vt) {
  const Eigen::BDCSVD<ColumnMatrix<T>> result(Eigen::Map<ColumnMatrix<T>>(a, m, n),
                                              Eigen::ComputeThinU | Eigen::ComputeThinV);
  if (result.info() != Eigen::Success) return 1;
  Eigen::Map<ColumnMatrix<T>>(u, m, n) = result.matrixU();
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(s, n) = result.singularValues();
  Eigen::Map<ColumnMatrix<T>>(vt, n, n) = result.matrixV().transpose();
  // gesvd overwrites A with garbage; so does this, so no caller can rely on it.
  Eigen::Map<ColumnMatrix<T>>(a, m, n).setConstant(T(-7));
  return 0;
}

}  // namespace

void syrk_lower(DType dtype, std::int64_t n, std::int64_t k, const void* a, void* c) {
  if (dtype == DType::f32) return syrk_typed(n, k, static_cast<const float*>(a), static_cast<float*>(c));
  syrk_typed(n, k, static_cast<const double*>(a), static_cast<double*>(c));
}

int symmetric_eigen(DType dtype, std::int64_t n, void* a, void* w) {
  if (dtype == DType::f32) return symmetric_eigen_typed(n, static_cast<float*>(a), static_cast<float*>(w));
  return symmetric_eigen_typed(n, static_cast<double*>(a), static_cast<double*>(w));
}

int thin_svd(DType dtype, std::int64_t m, std::int64_t n, void* a, void* u, void* s, void* vt) {
  if (dtype == DType::f32)
    return thin_svd_typed(m, n, static_cast<float*>(a), static_cast<float*>(u), static_cast<float*>(s),
                          static_cast<float*>(vt));
  return thin_svd_typed(m, n, static_cast<double*>(a), static_cast<double*>(u), static_cast<double*>(s),
                        static_cast<double*>(vt));
}

void gemm_strided_batched(DType dtype, bool transpose_a, std::int64_t m, std::int64_t n, std::int64_t k,
                          const void* a, std::int64_t lda, std::int64_t stride_a, const void* b,
                          std::int64_t ldb, std::int64_t stride_b, void* c, std::int64_t ldc,
                          std::int64_t stride_c, std::int64_t batch) {
  if (dtype == DType::f32)
    return gemm_typed(transpose_a, m, n, k, static_cast<const float*>(a), lda, stride_a,
                      static_cast<const float*>(b), ldb, stride_b, static_cast<float*>(c), ldc, stride_c,
                      batch);
  gemm_typed(transpose_a, m, n, k, static_cast<const double*>(a), lda, stride_a,
             static_cast<const double*>(b), ldb, stride_b, static_cast<double*>(c), ldc, stride_c, batch);
}

}  // namespace dphys::device_kernel
