#pragma once
// Blocked Householder tridiagonalisation of a symmetric matrix (LAPACK's sytrd with latrd panels, lower
// triangle), the first half of kernel::eigh on the CPU.
//
// Why: Eigen's Tridiagonalization is unblocked: each of its n − 1 steps reads the trailing matrix for a
// matrix-vector product and then reads and writes it again for a rank-2 update. Here a panel of columns
// accumulates its reflectors, and the trailing matrix takes their rank-2k update in one product, so the
// matrix-vector products are left as the only pass over memory per column (bench/RESULTS.md, "Symmetric
// eigensolver").
#include <cstdint>

namespace dphys::kernel {

// On entry the lower triangle of the column-major n×n `a` holds a symmetric matrix A (the upper triangle is
// not read). On return A = Q·T·Qᵀ in Eigen's Tridiagonalization storage: T's diagonal on a's diagonal, its
// off-diagonal on a's first subdiagonal, and Q = H₀·H₁⋯H_{n−2} with H_i = I − h_i·v_i·v_iᵀ, where v_i is 0 in
// rows ≤ i, 1 in row i + 1 and a's column i below the subdiagonal; h_i in `householder_coefficients` [n − 1].
// NaN or Inf in the lower triangle is an error.
template <class T>
void tridiagonalize(std::int64_t n, T* a, T* householder_coefficients);

}  // namespace dphys::kernel
