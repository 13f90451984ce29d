#pragma once
// Elementwise kernels with NumPy broadcasting. No gradients here: see autodiff/ops.h.
#include "engine/op_kinds.h"
#include "engine/tensor.h"

namespace dphys::kernel {

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);

Tensor unary(UnaryOp op, const Tensor& x);
// Inputs are promoted to a common dtype; comparisons return 0/1 in that dtype.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// cond != 0 selects a, else b; all three broadcast together. cond must be real.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// Returns x itself when it already has `dtype`.
Tensor cast(const Tensor& x, DType dtype);
// The complex conjugate; a real tensor is returned as it is.
Tensor conj(const Tensor& x);
// Writes `a + alpha * b` into a (b broadcast to a's shape).
void add_inplace(const Tensor& a, const Tensor& b, double alpha);
void scale_inplace(const Tensor& a, double factor);
void fill(const Tensor& a, double value);

// Checks that all tensors live on one device; `op` names the caller.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);

}  // namespace dphys::kernel
