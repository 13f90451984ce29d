#include "engine/linalg.h"

#include <Eigen/Dense>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/layout.h"
#include "engine/parallel.h"
#include "engine/reduce.h"
#include "engine/tridiagonal_eigen.h"
#include "engine/tridiagonalization.h"

namespace dphys::kernel {

namespace {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// From this size on eigh uses its own blocked tridiagonalisation and divide and conquer instead of Eigen's
// SelfAdjointEigenSolver (bench/RESULTS.md, "Symmetric eigensolver").
constexpr std::int64_t divide_and_conquer_min = 128;

void check_matrix(const char* op, const Tensor& a) {
  DPHYS_CHECK(a.dim() == 2 && (a.dtype() == DType::f32 || a.dtype() == DType::f64),
              "{}: expected a real matrix (2 axes, f32 or f64), got {} of shape {}", op,
              dtype_name(a.dtype()), shape_str(a.shape()));
  DPHYS_CHECK(a.size(0) > 0 && a.size(1) > 0, "{}: empty matrix of shape {}", op, shape_str(a.shape()));
}

template <class T>
Eigen::Map<const RowMatrix<T>> as_matrix(const char* op, const Tensor& a) {
  Eigen::Map<const RowMatrix<T>> m(a.data<T>(), a.size(0), a.size(1));
  DPHYS_CHECK(m.allFinite(), "{}: the {} matrix of shape {} contains NaN or Inf", op, dtype_name(a.dtype()),
              shape_str(a.shape()));
  return m;
}

template <class T, class Source>
Tensor to_tensor(const Source& source, DType dtype) {
  Tensor out = Tensor::empty(
      {static_cast<std::int64_t>(source.rows()), static_cast<std::int64_t>(source.cols())}, dtype);
  Eigen::Map<RowMatrix<T>>(out.data<T>(), source.rows(), source.cols()) = source;
  return out;
}

template <class T, class Source>
Tensor to_vector_tensor(const Source& source, DType dtype) {
  Tensor out = Tensor::empty({static_cast<std::int64_t>(source.size())}, dtype);
  Eigen::Map<Vector<T>>(out.data<T>(), source.size()) = source;
  return out;
}

// The device routes: cuSOLVER and cuBLAS work on column-major matrices, and a row-major [m, n] tensor is the
// column-major n×m matrix aᵀ. NaN or Inf is found with one reduction: Σ 0·a is NaN exactly then.
void check_finite_on_device(const char* op, const Tensor& a) {
  check_device_dtype(op, a);
  const double probe =
      reduce(ReduceOp::sum, binary(BinaryOp::mul, a, scalar(0.0, a.dtype(), a.device())), {}, false).item();
  DPHYS_CHECK(!std::isnan(probe), "{}: the {} matrix of shape {} on {} contains NaN or Inf", op,
              dtype_name(a.dtype()), shape_str(a.shape()), a.device().str());
}

Svd device_svd(const Tensor& a) {
  check_finite_on_device("svd", a);
  const std::int64_t m = a.size(0), n = a.size(1), k = std::min(m, n);
  const Device device = a.device();
  // cuSOLVER's gesvd wants at least as many rows as columns: a wide a is decomposed as its column-major
  // view aᵀ = U S Vᵀ (so u = V, v = U), a tall one after a transposed copy.
  const bool wide = n >= m;
  const Tensor x = wide ? a.clone() : permute(a, {1, 0});
  const std::int64_t rows = wide ? n : m;
  Tensor u_x = Tensor::empty({k, rows}, a.dtype(), device), s = Tensor::empty({k}, a.dtype(), device),
         vt_x = Tensor::empty({k, k}, a.dtype(), device);
  const int info = device_kernel::thin_svd(a.dtype(), rows, k, device_address(x), device_address(u_x),
                                           device_address(s), device_address(vt_x));
  DPHYS_CHECK(info == 0, "svd: cuSOLVER's gesvd did not converge for shape {} (info {})",
              shape_str(a.shape()), info);
  // u_x's buffer is the column-major U (rows×k), i.e. row-major Uᵀ; vt_x's is row-major V.
  const Tensor big = permute(u_x, {1, 0});
  return wide ? Svd{vt_x, s, big} : Svd{big, s, vt_x};
}

Eigh device_eigh(const Tensor& a) {
  check_finite_on_device("eigh", a);
  const std::int64_t n = a.size(0);
  // The column-major aᵀ's upper triangle is a's lower one, the triangle the CPU route reads too.
  const Tensor work = a.clone();
  Tensor w = Tensor::empty({n}, a.dtype(), a.device());
  const int info = device_kernel::symmetric_eigen(a.dtype(), n, device_address(work), device_address(w));
  DPHYS_CHECK(info == 0, "eigh: cuSOLVER's syevd did not converge for shape {} (info {})",
              shape_str(a.shape()), info);
  // The eigenvectors are the columns of the column-major result: transposed in row-major terms.
  return Eigh{w, permute(work, {1, 0})};
}

Tensor device_gram(const Tensor& a) {
  check_finite_on_device("gram", a);
  const std::int64_t m = a.size(0), n = a.size(1);
  Tensor out = Tensor::empty({m, m}, a.dtype(), a.device());
  // With A = the column-major n×m aᵀ, Aᵀ·A = a·aᵀ; syrk fills one triangle, the other is copied over.
  device_kernel::syrk_lower(a.dtype(), m, n, device_address(a), device_address(out));
  device_kernel::symmetrize_lower(a.dtype(), m, device_address(out));
  return out;
}

}  // namespace

Svd svd(const Tensor& a) {
  check_matrix("svd", a);
  if (!a.device().is_cpu()) return device_svd(a);
  return dispatch_real(a.dtype(), "svd", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const RowMatrix<T>> m = as_matrix<T>("svd", a);
    const Eigen::BDCSVD<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>> result(
        m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    DPHYS_CHECK(result.info() == Eigen::Success, "svd: Eigen's BDCSVD did not converge for shape {}",
                shape_str(a.shape()));
    return Svd{to_tensor<T>(result.matrixU(), a.dtype()),
               to_vector_tensor<T>(result.singularValues(), a.dtype()),
               to_tensor<T>(result.matrixV(), a.dtype())};
  });
}

Eigh eigh(const Tensor& a) {
  check_matrix("eigh", a);
  DPHYS_CHECK(a.size(0) == a.size(1), "eigh: expected a square matrix, got shape {}", shape_str(a.shape()));
  if (!a.device().is_cpu()) return device_eigh(a);
  return dispatch_real(a.dtype(), "eigh", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const RowMatrix<T>> m = as_matrix<T>("eigh", a);
    const std::int64_t n = a.size(0);
    if (n >= divide_and_conquer_min) {
      // a = Q·T·Qᵀ (Householder, lower triangle), T = S·Λ·Sᵀ, so the eigenvectors are Q·S.
      Matrix<T> reduced = m;
      Vector<T> coefficients(n - 1);
      tridiagonalize<T>(n, reduced.data(), coefficients.data());
      Vector<T> values = reduced.diagonal();
      const Vector<T> off_diagonal = reduced.diagonal(-1);
      Matrix<T> vectors(n, n);
      tridiagonal_eigen<T>(n, values.data(), off_diagonal.data(), vectors.data());
      Eigen::HouseholderSequence<Matrix<T>, Vector<T>> q(reduced, coefficients);
      q.setLength(n - 1).setShift(1);
      vectors.applyOnTheLeft(q);
      return Eigh{to_vector_tensor<T>(values, a.dtype()), to_tensor<T>(vectors, a.dtype())};
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>> result(m);
    DPHYS_CHECK(result.info() == Eigen::Success,
                "eigh: Eigen's SelfAdjointEigenSolver did not converge for shape {}", shape_str(a.shape()));
    return Eigh{to_vector_tensor<T>(result.eigenvalues(), a.dtype()),
                to_tensor<T>(result.eigenvectors(), a.dtype())};
  });
}

Tensor gram(const Tensor& a) {
  check_matrix("gram", a);
  if (!a.device().is_cpu()) return device_gram(a);
  const std::int64_t m = a.size(0), n = a.size(1);
  Tensor out = Tensor::empty({m, m}, a.dtype());
  dispatch_real(a.dtype(), "gram", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const RowMatrix<T>> rows = as_matrix<T>("gram", a);
    Eigen::Map<RowMatrix<T>> g(out.data<T>(), m, m);
    // Tiles of 256 rows keep each product large enough for Eigen's blocked GEMM while giving the threads
    // many independent pieces (136 tiles for HIG Poisson's 4096 rows).
    constexpr std::int64_t tile = 256;
    std::vector<std::pair<std::int64_t, std::int64_t>> tiles;
    for (std::int64_t i = 0; i < m; i += tile)
      for (std::int64_t j = 0; j <= i; j += tile) tiles.emplace_back(i, j);
    parallel_for(static_cast<std::int64_t>(tiles.size()), tile * tile * n, [&](std::int64_t k) {
      const auto [i, j] = tiles[k];
      const std::int64_t bi = std::min(tile, m - i), bj = std::min(tile, m - j);
      g.block(i, j, bi, bj).noalias() = rows.middleRows(i, bi) * rows.middleRows(j, bj).transpose();
    });
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = i + 1; j < m; ++j) g(i, j) = g(j, i);
  });
  return out;
}

}  // namespace dphys::kernel
