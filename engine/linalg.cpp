#include "engine/linalg.h"

#include <Eigen/Dense>
#include <Eigen/SVD>
#include <algorithm>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

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

}  // namespace

Svd svd(const Tensor& a) {
  check_matrix("svd", a);
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
  return dispatch_real(a.dtype(), "eigh", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const RowMatrix<T>> m = as_matrix<T>("eigh", a);
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>> result(m);
    DPHYS_CHECK(result.info() == Eigen::Success,
                "eigh: Eigen's SelfAdjointEigenSolver did not converge for shape {}", shape_str(a.shape()));
    return Eigh{to_vector_tensor<T>(result.eigenvalues(), a.dtype()),
                to_tensor<T>(result.eigenvectors(), a.dtype())};
  });
}

Tensor gram(const Tensor& a) {
  check_matrix("gram", a);
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
