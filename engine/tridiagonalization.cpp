#include "engine/tridiagonalization.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.h"
#include "engine/unit_scale.h"

namespace dphys::kernel {

namespace {

using Index = Eigen::Index;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// Columns reduced per panel before the trailing matrix is updated (LAPACK's default block size).
constexpr Index panel_width = 32;

// Reduces columns [p, p + b) of `a` (LAPACK's latrd, lower): the trailing matrix is read as it was before the
// panel, and each column is first brought up to date with the panel's earlier reflectors through `w`
// (w[:, k] for rows ≥ p + k + 1, so that the trailing matrix is due A − V·Wᵀ − W·Vᵀ over the panel's
// reflectors V). Leaves a(c + 1, c) = 1 (v's first entry) for the trailing update; `subdiagonal` keeps T's
// entries.
template <class T>
void reduce_panel(Eigen::Map<Matrix<T>>& a, Index p, Index b, Matrix<T>& w, T* coefficients, T* subdiagonal) {
  const Index n = a.rows();
  Vector<T> scratch(b);
  for (Index i = 0; i < b; ++i) {
    const Index c = p + i, below = n - c;
    if (i > 0) {
      auto column = a.col(c).tail(below);
      column.noalias() -= a.block(c, p, below, i) * w.block(c - p, 0, 1, i).transpose();
      column.noalias() -= w.block(c - p, 0, below, i) * a.block(c, p, 1, i).transpose();
    }
    if (c + 1 == n) break;
    const Index r = below - 1;
    T h, beta;
    a.col(c).tail(r).makeHouseholderInPlace(h, beta);
    subdiagonal[c] = beta;
    coefficients[c] = h;
    a(c + 1, c) = 1;
    const auto v = a.col(c).tail(r);
    auto wc = w.col(i).segment(c + 1 - p, r);
    wc.noalias() = a.bottomRightCorner(r, r).template selfadjointView<Eigen::Lower>() * v;
    if (i > 0) {
      auto t = scratch.head(i);
      t.noalias() = w.block(c + 1 - p, 0, r, i).transpose() * v;
      wc.noalias() -= a.block(c + 1, p, r, i) * t;
      t.noalias() = a.block(c + 1, p, r, i).transpose() * v;
      wc.noalias() -= w.block(c + 1 - p, 0, r, i) * t;
    }
    wc *= h;
    wc += (T(-0.5) * h * wc.dot(v)) * v;
  }
}

}  // namespace

template <class T>
void tridiagonalize(std::int64_t n, T* data, T* householder_coefficients) {
  DPHYS_CHECK(n > 0, "tridiagonalize: size {} is not positive", n);
  Eigen::Map<Matrix<T>> a(data, n, n);
  T largest = 0;
  bool finite = true;
  for (Index c = 0; c < n; ++c) {
    finite = finite && a.col(c).tail(n - c).allFinite();
    largest = std::max(largest, a.col(c).tail(n - c).cwiseAbs().maxCoeff());
  }
  DPHYS_CHECK(finite, "tridiagonalize: the {}x{} {} matrix has a NaN or Inf entry", n, n,
              sizeof(T) == 4 ? "f32" : "f64");
  // Reduced at unit scale and scaled back by the same power of two (exact): Householder vectors are found
  // from unscaled squared norms, which underflow for matrices of size 1e-155 (f64) or 1e-20 (f32), and
  // overflow for their reciprocals.
  const int exponent = unit_scale_exponent(largest);
  scale_to_unit<T>(a.template triangularView<Eigen::Lower>(), exponent);
  std::vector<T> subdiagonal(std::max<std::int64_t>(n - 1, 0));
  Matrix<T> w(n, panel_width);
  for (Index p = 0; p < n; p += panel_width) {
    const Index b = std::min(panel_width, n - p), next = p + b, rest = n - next;
    w.setZero();
    reduce_panel<T>(a, p, b, w, householder_coefficients, subdiagonal.data());
    if (rest > 0) {
      // A₂₂ −= V·Wᵀ + W·Vᵀ, lower triangle only, as two products.
      auto trailing = a.bottomRightCorner(rest, rest);
      const auto v = a.block(next, p, rest, b);
      const auto wb = w.block(next - p, 0, rest, b);
      trailing.template triangularView<Eigen::Lower>() -= v * wb.transpose();
      trailing.template triangularView<Eigen::Lower>() -= wb * v.transpose();
    }
    for (Index c = p; c < next && c + 1 < n; ++c) a(c + 1, c) = subdiagonal[c];
  }
  const T restore = std::ldexp(T(1), exponent);
  a.diagonal() *= restore;
  a.diagonal(-1) *= restore;
}

template void tridiagonalize<float>(std::int64_t, float*, float*);
template void tridiagonalize<double>(std::int64_t, double*, double*);

}  // namespace dphys::kernel
