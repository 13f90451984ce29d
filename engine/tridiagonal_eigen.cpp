#include "engine/tridiagonal_eigen.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "engine/error.h"
#include "engine/parallel.h"
#include "engine/unit_scale.h"

namespace dphys::kernel {

namespace {

using Index = Eigen::Index;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using MatrixRef = Eigen::Ref<Matrix<T>>;

// Blocks up to this size go to Eigen's implicit QR: at this size its rotations stay in cache.
constexpr Index leaf_size = 32;

template <class T>
void solve_leaf(T* d, const T* e, Index n, MatrixRef<T> q) {
  if (n == 1) {
    q(0, 0) = 1;
    return;
  }
  Eigen::SelfAdjointEigenSolver<Matrix<T>> solver;
  solver.computeFromTridiagonal(Eigen::Map<const Vector<T>>(d, n), Eigen::Map<const Vector<T>>(e, n - 1),
                                Eigen::ComputeEigenvectors);
  DPHYS_CHECK(solver.info() == Eigen::Success,
              "tridiagonal_eigen: Eigen's implicit QR did not converge on a {} block of size {}",
              sizeof(T) == 4 ? "f32" : "f64", n);
  Eigen::Map<Vector<T>>(d, n) = solver.eigenvalues();
  q = solver.eigenvectors();
}

// The roots of the secular equation f(λ) = 1 + ρ Σ_j z_j² / (d_j − λ) = 0 of D + ρ z zᵀ, for poles d
// strictly ascending, every z_j ≠ 0 and ρ > 0. Root i lies in (d_i, d_{i+1}) (the last in (d_{K−1},
// d_{K−1} + ρ‖z‖²)) and is kept as λ_i = d[origin_i] + tau_i with origin_i the nearer pole: the
// differences d_j − λ_i = (d_j − d[origin_i]) − tau_i then keep their relative accuracy, on which the
// orthogonality of the eigenvectors rests (Gu and Eisenstat).
template <class T>
struct SecularRoots {
  std::vector<Index> origin;
  Vector<T> tau;

  T minus_pole(Index root, const Vector<T>& d, Index j) const { return (d[origin[root]] - d[j]) + tau[root]; }
};

template <class T>
SecularRoots<T> secular_roots(const Vector<T>& d, const Vector<T>& z_squared, T rho) {
  constexpr T eps = std::numeric_limits<T>::epsilon();
  const Index count = d.size();
  SecularRoots<T> roots{std::vector<Index>(count), Vector<T>(count)};
  parallel_for(count, 20 * count, [&](Index i) {
    // f, f' and Σ|terms| (the scale of f's rounding error) at λ = d[origin] + t.
    auto evaluate = [&](Index origin, T t, T& derivative, T& magnitude) {
      T f = 1;
      derivative = 0;
      magnitude = 1;
      for (Index j = 0; j < count; ++j) {
        const T delta = (d[j] - d[origin]) - t;
        const T term = rho * z_squared[j] / delta;
        f += term;
        derivative += term / delta;
        magnitude += std::abs(term);
      }
      return f;
    };
    Index origin = i;
    T low = 0, high = 0, derivative = 0, magnitude = 0;
    if (i + 1 < count) {
      const T half_gap = (d[i + 1] - d[i]) / 2;
      if (evaluate(i, half_gap, derivative, magnitude) >= 0) {
        high = half_gap;
      } else {
        origin = i + 1;
        low = -half_gap;
      }
    } else {
      high = rho * z_squared.sum();  // f ≥ 0 there: every |d_j − λ| ≥ ρ‖z‖²
    }
    // Safeguarded Newton: f increases from −∞ to +∞ across the bracket, which every step narrows; a Newton
    // step that leaves it is replaced by bisection.
    T t = (low + high) / 2;
    for (int iteration = 0; iteration < 400; ++iteration) {
      const T f = evaluate(origin, t, derivative, magnitude);
      if (f == 0 || std::abs(f) <= 4 * eps * static_cast<T>(count) * magnitude) break;
      (f > 0 ? high : low) = t;
      T next = t - f / derivative;
      if (!(next > low && next < high)) next = (low + high) / 2;
      if (next == t || high - low <= 2 * eps * std::max(std::abs(low), std::abs(high))) break;
      t = next;
    }
    roots.origin[i] = origin;
    roots.tau[i] = t;
  });
  return roots;
}

// q holds the eigenvectors of the two halves [0, m) and [m, n) block-diagonally and d their eigenvalues,
// each half ascending. Replaces them with the eigenpairs of blkdiag(T₁, T₂) + ρ u uᵀ, u = e_{m−1} +
// sign · e_m, i.e. of D + ρ z zᵀ with z = qᵀu, ascending.
template <class T>
void merge(T* d, Index n, Index m, T rho, T sign, MatrixRef<T> q) {
  constexpr T eps = std::numeric_limits<T>::epsilon();
  Vector<T> z(n);
  z.head(m) = q.row(m - 1).head(m).transpose();
  z.tail(n - m) = sign * q.row(m).tail(n - m).transpose();
  const T z_norm = z.norm();  // √2 up to rounding: rows of orthogonal matrices
  z /= z_norm;
  rho *= z_norm * z_norm;

  std::vector<Index> order(n);
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return d[a] < d[b]; });
  T d_max = 0;
  for (Index j = 0; j < n; ++j) d_max = std::max(d_max, std::abs(d[j]));
  const T tolerance = 8 * eps * std::max(d_max, rho);

  // Deflation (LAPACK's laed2): an eigenpair of D stays one of D + ρ z zᵀ when its z_j is negligible, or
  // after a rotation that moves all of z onto one of two nearly equal poles.
  std::vector<Index> kept, deflated;
  Index previous = -1;
  for (Index j : order) {
    if (rho * std::abs(z[j]) <= tolerance) {
      deflated.push_back(j);
      continue;
    }
    if (previous >= 0) {
      const T radius = std::hypot(z[previous], z[j]);
      const T c = z[j] / radius, s = -z[previous] / radius;
      if (std::abs((d[j] - d[previous]) * c * s) <= tolerance) {
        z[j] = radius;
        z[previous] = 0;
        auto qp = q.col(previous), qj = q.col(j);
        for (Index r = 0; r < n; ++r) {
          const T x = qp[r], y = qj[r];
          qp[r] = c * x + s * y;
          qj[r] = c * y - s * x;
        }
        const T d_previous = d[previous] * c * c + d[j] * s * s;
        d[j] = d[previous] * s * s + d[j] * c * c;
        d[previous] = d_previous;
        deflated.push_back(previous);
        previous = j;
        continue;
      }
      kept.push_back(previous);
    }
    previous = j;
  }
  if (previous >= 0) kept.push_back(previous);

  const Index count = static_cast<Index>(kept.size());
  Vector<T> poles(count), z_kept(count);
  for (Index i = 0; i < count; ++i) {
    poles[i] = d[kept[i]];
    z_kept[i] = z[kept[i]];
  }
  const SecularRoots<T> roots = secular_roots<T>(poles, z_kept.array().square().matrix(), rho);

  // Löwner's formula: the z for which the computed roots are exact, as a product of positive ratios
  // (interlacing: d_0 < λ_0 < d_1 < … < d_{K−1} < λ_{K−1}); then the eigenvector of root j is
  // (ẑ_i / (d_i − λ_j))_i, normalised.
  Vector<T> z_exact(count);
  parallel_for(count, 4 * count, [&](Index i) {
    T product = roots.minus_pole(count - 1, poles, i) / rho;
    for (Index j = 0; j < i; ++j) product *= roots.minus_pole(j, poles, i) / (poles[j] - poles[i]);
    for (Index j = i; j + 1 < count; ++j)
      product *= roots.minus_pole(j, poles, i) / (poles[j + 1] - poles[i]);
    z_exact[i] = std::copysign(std::sqrt(std::max(product, T(0))), z_kept[i]);
  });
  Matrix<T> secular_vectors(count, count);
  parallel_for(count, 4 * count, [&](Index j) {
    for (Index i = 0; i < count; ++i) secular_vectors(i, j) = -z_exact[i] / roots.minus_pole(j, poles, i);
    secular_vectors.col(j).normalize();
  });
  Matrix<T> kept_vectors(n, count);
  for (Index i = 0; i < count; ++i) kept_vectors.col(i) = q.col(kept[i]);
  const Matrix<T> merged = kept_vectors * secular_vectors;

  // Every eigenpair, ascending.
  std::vector<std::pair<T, Index>> pairs;  // (eigenvalue, column: merged's if < count, else q's minus count)
  pairs.reserve(n);
  for (Index j = 0; j < count; ++j) pairs.emplace_back(poles[roots.origin[j]] + roots.tau[j], j);
  for (Index j : deflated) pairs.emplace_back(d[j], count + j);
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Matrix<T> vectors(n, n);
  for (Index k = 0; k < n; ++k) {
    const Index source = pairs[k].second;
    if (source < count)
      vectors.col(k) = merged.col(source);
    else
      vectors.col(k) = q.col(source - count);
    d[k] = pairs[k].first;
  }
  q = vectors;
}

template <class T>
void solve(T* d, const T* e, Index n, MatrixRef<T> q) {
  if (n <= leaf_size) {
    solve_leaf<T>(d, e, n, q);
    return;
  }
  // T = blkdiag(T₁, T₂) + |β| u uᵀ with u = e_{m−1} + sign(β) e_m, once |β| is taken off the two diagonal
  // entries it couples.
  const Index m = n / 2;
  const T beta = e[m - 1], rho = std::abs(beta);
  d[m - 1] -= rho;
  d[m] -= rho;
  q.topRightCorner(m, n - m).setZero();
  q.bottomLeftCorner(n - m, m).setZero();
  solve<T>(d, e, m, q.topLeftCorner(m, m));
  solve<T>(d + m, e + m, n - m, q.bottomRightCorner(n - m, n - m));
  merge<T>(d, n, m, rho, beta < 0 ? T(-1) : T(1), q);
}

}  // namespace

template <class T>
void tridiagonal_eigen(std::int64_t n, T* diagonal, const T* off_diagonal, T* vectors) {
  DPHYS_CHECK(n > 0, "tridiagonal_eigen: size {} is not positive", n);
  Eigen::Map<Vector<T>> d(diagonal, n);
  const Eigen::Map<const Vector<T>> e(off_diagonal, n - 1);
  DPHYS_CHECK(d.allFinite() && e.allFinite(),
              "tridiagonal_eigen: the {} tridiagonal matrix of size {} has a NaN or Inf",
              sizeof(T) == 4 ? "f32" : "f64", n);
  const T largest = std::max(d.cwiseAbs().maxCoeff(), n > 1 ? e.cwiseAbs().maxCoeff() : T(0));
  // Solved at unit scale, by a power of two (exact): Eigen's QR on the leaves decides splits by an absolute
  // test and squares the off-diagonal, and the secular vectors' norms are squares of reciprocal differences,
  // so at sizes far from 1 these underflow or overflow.
  const int exponent = unit_scale_exponent(largest);
  scale_to_unit<T>(d, exponent);
  Vector<T> e_scaled = e;
  scale_to_unit<T>(e_scaled, exponent);
  Eigen::Map<Matrix<T>> q(vectors, n, n);
  solve<T>(diagonal, e_scaled.data(), n, q);
  d *= std::ldexp(T(1), exponent);
}

template void tridiagonal_eigen<float>(std::int64_t, float*, const float*, float*);
template void tridiagonal_eigen<double>(std::int64_t, double*, const double*, double*);

}  // namespace dphys::kernel
