// Divide and conquer for the symmetric tridiagonal eigenproblem (engine/tridiagonal_eigen.h) and eigh's
// route through it (n ≥ 128), against spectra known in closed form or built by hand, and on the matrices
// that exercise its deflation: exactly repeated eigenvalues, zero couplings, rank deficiency and Wilkinson's
// nearly equal pairs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/linalg.h"
#include "engine/tridiagonal_eigen.h"
#include "engine/tridiagonalization.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::max_abs;

namespace {

constexpr double pi = 3.14159265358979323846;

Tensor identity(std::int64_t n, DType dtype) {
  std::vector<double> a(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) a[i * n + i] = 1;
  return from_vector(a, {n, n}, dtype);
}

Tensor tridiagonal_matrix(const std::vector<double>& diagonal, const std::vector<double>& off_diagonal) {
  const std::int64_t n = static_cast<std::int64_t>(diagonal.size());
  std::vector<double> a(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    a[i * n + i] = diagonal[i];
    if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = off_diagonal[i];
  }
  return from_vector(a, {n, n}, DType::f64);
}

// Q·diag(λ)·Qᵀ with Q the product of two Householder reflections of random directions: dense, with exactly
// the eigenvalues λ.
Tensor with_spectrum(const std::vector<double>& lambda, std::uint64_t seed) {
  const std::int64_t n = static_cast<std::int64_t>(lambda.size());
  Generator gen(seed);
  Tensor q = identity(n, DType::f64);
  for (int k = 0; k < 2; ++k) {
    const Tensor u = uniform({n, 1}, -1, 1, gen, DType::f64);
    q = matmul(identity(n, DType::f64) - matmul(u, transpose(u)) * (2.0 / sum(u * u).item()), q);
  }
  const Tensor a = matmul(q * from_vector(lambda, {1, n}, DType::f64), transpose(q));
  return (a + transpose(a)) * 0.5;
}

// A·V = V·diag(w) and VᵀV = I to within `ulps` · n · ε (relative to ‖A‖₂ = max |w|), w ascending.
void check_eigenpairs(const Tensor& a, const kernel::Eigh& e, double ulps) {
  const std::int64_t n = a.size(0);
  const double eps = a.dtype() == DType::f32 ? std::numeric_limits<float>::epsilon()
                                             : std::numeric_limits<double>::epsilon();
  const Tensor& v = e.eigenvectors;
  const Tensor residual = matmul(a, v) - v * reshape(e.eigenvalues, {1, n});
  CHECK(max_abs(residual) <= ulps * n * eps * max_abs(e.eigenvalues));
  CHECK(max_abs(matmul(transpose(v), v) - identity(n, a.dtype())) <= ulps * n * eps);
  const std::vector<double> w = cast(e.eigenvalues, DType::f64).to_vector<double>();
  CHECK(std::is_sorted(w.begin(), w.end()));
}

kernel::Eigh tridiagonal_eigh(std::vector<double> diagonal, const std::vector<double>& off_diagonal) {
  const std::int64_t n = static_cast<std::int64_t>(diagonal.size());
  std::vector<double> vectors(n * n);
  kernel::tridiagonal_eigen<double>(n, diagonal.data(), off_diagonal.data(), vectors.data());
  // Column-major n×n is the row-major transpose.
  return {from_vector(diagonal, {n}, DType::f64), transpose(from_vector(vectors, {n, n}, DType::f64))};
}

}  // namespace

TEST_CASE("tridiagonal_eigen: the 1-D Laplacian's eigenvalues 2 − 2 cos(kπ/(n + 1))") {
  const std::int64_t n = 300;
  const kernel::Eigh e = tridiagonal_eigh(std::vector<double>(n, 2.0), std::vector<double>(n - 1, -1.0));
  const std::vector<double> w = e.eigenvalues.to_vector<double>();
  double error = 0;
  for (std::int64_t k = 1; k <= n; ++k)
    error = std::max(error, std::abs(w[k - 1] - (2 - 2 * std::cos(k * pi / (n + 1)))));
  CHECK(error < 1e-13);
  check_eigenpairs(tridiagonal_matrix(std::vector<double>(n, 2.0), std::vector<double>(n - 1, -1.0)), e, 2);
}

TEST_CASE("tridiagonal_eigen: zero couplings split the problem, and equal blocks give repeated eigenvalues") {
  // Three copies of the same 70-row block: every eigenvalue three times, and ρ = 0 at both joints.
  const std::int64_t block = 70, n = 3 * block;
  std::vector<double> diagonal(n), off_diagonal(n - 1);
  for (std::int64_t i = 0; i < n; ++i) diagonal[i] = std::sin(0.3 * static_cast<double>(i % block));
  for (std::int64_t i = 0; i + 1 < n; ++i) off_diagonal[i] = (i + 1) % block == 0 ? 0.0 : 0.5;
  const kernel::Eigh e = tridiagonal_eigh(diagonal, off_diagonal);
  check_eigenpairs(tridiagonal_matrix(diagonal, off_diagonal), e, 2);
  const std::vector<double> w = e.eigenvalues.to_vector<double>();
  for (std::int64_t k = 0; k < n; k += 3) {
    CHECK(std::abs(w[k + 1] - w[k]) < 1e-13);
    CHECK(std::abs(w[k + 2] - w[k]) < 1e-13);
  }
}

TEST_CASE("tridiagonal_eigen: glued Wilkinson matrices, whose eigenvalues come in nearly equal pairs") {
  // Ten copies of W₂₁⁺ (diagonal |10 − i|, couplings 1) glued by 1e-10: its largest eigenvalues agree in
  // pairs to about 1e-14, the hard case for deflation and for the eigenvectors' orthogonality.
  const std::int64_t block = 21, n = 10 * block;
  std::vector<double> diagonal(n), off_diagonal(n - 1);
  for (std::int64_t i = 0; i < n; ++i) diagonal[i] = std::abs(10.0 - static_cast<double>(i % block));
  for (std::int64_t i = 0; i + 1 < n; ++i) off_diagonal[i] = (i + 1) % block == 0 ? 1e-10 : 1.0;
  check_eigenpairs(tridiagonal_matrix(diagonal, off_diagonal), tridiagonal_eigh(diagonal, off_diagonal), 2);
}

TEST_CASE("eigh by divide and conquer: exact multiplicities and a graded spectrum") {
  const std::int64_t n = 200;
  std::vector<double> repeated(n), graded(n);
  for (std::int64_t i = 0; i < n; ++i) {
    repeated[i] = static_cast<double>(i % 4);  // 0, 1, 2, 3, each 50 times
    graded[i] = std::pow(10.0, -12.0 * static_cast<double>(i) / n);
  }
  for (const std::vector<double>& lambda : {repeated, graded}) {
    const Tensor a = with_spectrum(lambda, 7);
    const kernel::Eigh e = kernel::eigh(a);
    check_eigenpairs(a, e, 2);
    std::vector<double> expected = lambda;
    std::sort(expected.begin(), expected.end());
    const std::vector<double> w = e.eigenvalues.to_vector<double>();
    double error = 0;
    for (std::int64_t k = 0; k < n; ++k) error = std::max(error, std::abs(w[k] - expected[k]));
    CHECK(error < 1e-13 * max_abs(a));
  }
}

TEST_CASE("eigh by divide and conquer: a rank-deficient Gram matrix has its zero eigenvalues") {
  Generator gen(11);
  const Tensor b = uniform({160, 40}, -1, 1, gen, DType::f64);
  const Tensor a = kernel::gram(b);
  const kernel::Eigh e = kernel::eigh(a);
  check_eigenpairs(a, e, 2);
  const std::vector<double> w = e.eigenvalues.to_vector<double>();
  const double scale = max_abs(a);
  for (std::int64_t k = 0; k < 120; ++k) CHECK(std::abs(w[k]) < 1e-13 * scale);
  CHECK(w[120] > 1e-3 * scale);

  // Only the lower triangle is read: garbage above the diagonal changes nothing, bit for bit.
  std::vector<double> lower_only = a.to_vector<double>();
  for (std::int64_t i = 0; i < 160; ++i)
    for (std::int64_t j = i + 1; j < 160; ++j) lower_only[i * 160 + j] = 1e6;
  const kernel::Eigh from_lower = kernel::eigh(from_vector(lower_only, {160, 160}, DType::f64));
  CHECK(max_abs(from_lower.eigenvalues - e.eigenvalues) == 0.0);
  CHECK(max_abs(from_lower.eigenvectors - e.eigenvectors) == 0.0);
}

TEST_CASE("eigh by divide and conquer in f32 agrees with f64") {
  Generator gen(12);
  const Tensor b = uniform({150, 150}, -1, 1, gen, DType::f64);
  const Tensor a = b + transpose(b);
  const kernel::Eigh e32 = kernel::eigh(cast(a, DType::f32));
  check_eigenpairs(cast(a, DType::f32), e32, 2);
  const kernel::Eigh e64 = kernel::eigh(a);
  CHECK(max_abs(cast(e32.eigenvalues, DType::f64) - e64.eigenvalues) <
        150 * 1.2e-7 * max_abs(e64.eigenvalues));
}

TEST_CASE("tridiagonal_eigen at scales far from 1: the 1-D Laplacian times s") {
  // Unscaled, Eigen's QR on the leaves splits by an absolute test and squares the couplings, and the secular
  // vectors' norms square reciprocals: these went wrong or overflowed at such scales.
  const std::int64_t n = 128;
  auto check_scaled = [&](auto zero, double s, double tolerance) {
    using T = decltype(zero);
    CAPTURE(s);
    std::vector<T> diagonal(n, static_cast<T>(2 * s)), off_diagonal(n - 1, static_cast<T>(-s)),
        vectors(n * n);
    kernel::tridiagonal_eigen<T>(n, diagonal.data(), off_diagonal.data(), vectors.data());
    double error = 0;
    for (std::int64_t k = 1; k <= n; ++k)
      error = std::max(error, std::abs(diagonal[k - 1] / s - (2 - 2 * std::cos(k * pi / (n + 1)))));
    CHECK(error < tolerance);
    const Tensor v = from_vector(std::vector<double>(vectors.begin(), vectors.end()), {n, n}, DType::f64);
    CHECK(max_abs(matmul(transpose(v), v) - identity(n, DType::f64)) < tolerance);
  };
  for (const double s : {1e-310, 1e-160, 1e-20, 1e20, 1e160})
    check_scaled(0.0, s, 1e-13);  // 1e-310: subnormal
  for (const double s : {1e-30, 1e-12, 1e-8, 1e20, 1e30}) check_scaled(0.0f, s, 1e-4);
}

TEST_CASE("eigh by divide and conquer at scales far from 1 gives the unit-scale result times s") {
  // The Householder vectors' squared norms underflowed at 1e-155 (f64) and 1e-20 (f32) and overflowed at
  // 1e154 and 1e19, silently or as a misleading convergence error.
  const std::int64_t n = 130;
  std::vector<double> lambda(n);
  for (std::int64_t i = 0; i < n; ++i) lambda[i] = std::sin(0.7 * static_cast<double>(i)) + 0.001 * i;
  const Tensor a = with_spectrum(lambda, 13);
  for (const DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(dtype_name(dtype));
    const std::vector<double> scales = dtype == DType::f64
                                           ? std::vector<double>{1e-200, 1e-160, 1e160, 1e200}
                                           : std::vector<double>{1e-25, 1e-20, 1e-8, 1e19, 1e25};
    const double eps = dtype == DType::f32 ? 1.2e-7 : 2.3e-16;
    const kernel::Eigh unit = kernel::eigh(cast(a, dtype));
    for (const double s : scales) {
      CAPTURE(s);
      const Tensor scaled = cast(a * s, dtype);
      const kernel::Eigh e = kernel::eigh(scaled);
      check_eigenpairs(scaled, e, 2);
      CHECK(max_abs(cast(e.eigenvalues, DType::f64) * (1 / s) - cast(unit.eigenvalues, DType::f64)) <
            4 * n * eps * max_abs(unit.eigenvalues));
    }
  }
}

TEST_CASE("tridiagonal_eigen and tridiagonalize refuse NaN and Inf") {
  std::vector<double> diagonal{1, std::nan(""), 3}, off_diagonal{0.5, 0.5}, vectors(9);
  CHECK(test::contains(test::error_message([&] {
                         kernel::tridiagonal_eigen<double>(3, diagonal.data(), off_diagonal.data(),
                                                           vectors.data());
                       }),
                       "tridiagonal_eigen: the f64 tridiagonal matrix of size 3 has a NaN or Inf"));
  std::vector<float> d32{1, 2, 3}, e32{0.5f, std::numeric_limits<float>::infinity()}, v32(9);
  CHECK(test::contains(
      test::error_message([&] { kernel::tridiagonal_eigen<float>(3, d32.data(), e32.data(), v32.data()); }),
      "tridiagonal_eigen: the f32 tridiagonal matrix of size 3 has a NaN or Inf"));
  std::vector<double> dense{1, 2, std::numeric_limits<double>::infinity(), 2, 1, 0, 0, 0, 1}, coefficients(2);
  CHECK(test::contains(
      test::error_message([&] { kernel::tridiagonalize<double>(3, dense.data(), coefficients.data()); }),
      "tridiagonalize: the 3x3 f64 matrix has a NaN or Inf entry"));
}
