#pragma once
// Fused vector updates of batched conjugate gradients (solvers/linear_solve.cpp). Axis 0 is the batch; each
// example's reductions accumulate in f64 in a fixed order, so results do not depend on the thread count.
// The updates write into their arguments: CG owns those tensors. Per-example sums and coefficients are f64
// [batch] tensors on the vectors' device, so that on a GPU the iteration never waits for the host.
#include "engine/tensor.h"

namespace dphys::kernel {

// Σ a·b per example.
Tensor batched_dot(const Tensor& a, const Tensor& b);
// x += α p, r −= α Ap, z = r / diagonal (or r when diagonal is undefined) per example; returns Σ r·z.
Tensor cg_update(const Tensor& x, const Tensor& r, const Tensor& z, const Tensor& p, const Tensor& ap,
                 const Tensor& alpha, const Tensor& diagonal);
// p = z + β p per example.
void cg_direction(const Tensor& p, const Tensor& z, const Tensor& beta);

}  // namespace dphys::kernel
