#pragma once
// Dense factorisations of real matrices, computed in the input's precision (f32 or f64): Eigen on the CPU,
// cuSOLVER's gesvd and syevd and cuBLAS's syrk on a GPU.
// These are kernels, not differentiable ops: results carry no gradient history and there is no backward
// rule (an input that requires grad is read as plain data). Inputs containing NaN or Inf are refused.
#include "engine/tensor.h"

namespace dphys::kernel {

// Thin SVD a = u · diag(s) · vᵀ of a [m, n] matrix: u [m, k] and v [n, k] with orthonormal columns, s [k]
// descending and ≥ 0, k = min(m, n). Signs of singular vector pairs are arbitrary.
//
// Eigen's BDCSVD (bidiagonalisation, then divide and conquer; blocks under 16 columns go to one-sided
// Jacobi). JacobiSVD would give small singular values to higher relative accuracy, but its O(m·n²) sweeps
// are impractical for HIG's Jacobians (512 × 2956 up to 4096 × 41408, hig.md §1.6); BDCSVD's absolute
// accuracy ~ε·s₁ is all a rule that truncates relative to s₁ needs.
struct Svd {
  Tensor u, s, v;
};
Svd svd(const Tensor& a);

// Eigendecomposition a = q · diag(w) · qᵀ of a symmetric [n, n] matrix: w [n] ascending, q [n, n] with
// orthonormal eigenvectors as columns. Only the lower triangle of a is read (as LAPACK's syev with 'L').
// From n = 128 on: blocked Householder tridiagonalisation (engine/tridiagonalization.h), divide and conquer
// on the tridiagonal matrix (engine/tridiagonal_eigen.h), Eigen's blocked back-transformation. Below 128:
// Eigen's SelfAdjointEigenSolver (unblocked tridiagonalisation, implicit symmetric QR).
struct Eigh {
  Tensor eigenvalues, eigenvectors;
};
Eigh eigh(const Tensor& a);

// The Gram matrix a · aᵀ [m, m] of a [m, n] matrix, exactly symmetric. Only the lower triangle's tiles are
// multiplied (half the work of matmul(a, transpose(a)), and no transposed copy), in parallel over tiles.
Tensor gram(const Tensor& a);

}  // namespace dphys::kernel
