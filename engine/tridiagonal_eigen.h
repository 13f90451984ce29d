#pragma once
// The symmetric tridiagonal eigenproblem by divide and conquer (Cuppen's method with Gu and Eisenstat's
// eigenvectors, as LAPACK's stedc), the second half of kernel::eigh on the CPU.
//
// Why: Eigen's implicit QR applies its Givens rotations to all n eigenvectors, one column pair at a time,
// so it streams the n×n matrix through memory about n times: 33 s of the 50 s that Eigen's
// SelfAdjointEigenSolver spends on HIG Poisson's 4096² Gram matrix. Divide and conquer does its O(n³) work in
// matrix products instead (bench/RESULTS.md, "Symmetric eigensolver").
#include <cstdint>

namespace dphys::kernel {

// Eigenvalues and eigenvectors of the n×n symmetric tridiagonal matrix with diagonal `diagonal` [n] and
// off-diagonal `off_diagonal` [n − 1] (entry i couples rows i and i + 1). On return `diagonal` holds the
// eigenvalues ascending and `vectors` (n×n, column-major, written whole) the orthonormal eigenvectors as
// columns, in the same order. NaN or Inf in the input is an error.
template <class T>
void tridiagonal_eigen(std::int64_t n, T* diagonal, const T* off_diagonal, T* vectors);

}  // namespace dphys::kernel
