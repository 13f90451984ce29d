#pragma once
// Differentiable ops. Each records a node (when an input requires grad and recording is on) whose VJP is
// written with these same ops, so gradients can be differentiated again. Shape errors name the op.
#include <vector>

#include "engine/creation.h"
#include "engine/tensor.h"

namespace dphys {

// ---- elementwise, unary (ops_unary.cpp) ----
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
// -1, 0 or 1; its derivative is zero.
Tensor sign(const Tensor& x);
Tensor square(const Tensor& x);
// The error function (GELU needs it).
Tensor erf(const Tensor& x);
// Limits x to [low, high]; the gradient is passed where low ≤ x ≤ high (1 at the bounds themselves, as the
// fused advection kernels take it too), and is 0 outside.
Tensor clamp(const Tensor& x, double low, double high);
// Converts the dtype; the gradient is converted back.
Tensor cast(const Tensor& x, DType dtype);

// ---- elementwise, binary, NumPy broadcasting (ops_binary.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// a^b; the gradient with respect to b needs a > 0.
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// cond != 0 picks a, else b. cond gets no gradient.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// Comparisons return 0/1 in the promoted dtype and record nothing.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
// A double operand becomes a 0-d tensor of the other operand's dtype.
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

// ---- reductions; empty axes = all axes (ops_reduce.cpp) ----
Tensor sum(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
// The gradient is shared equally among tied maxima (minima).
Tensor max(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
// Euclidean norm over axes.
Tensor norm(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
// Index of the maximum along one axis (i64); not differentiable.
Tensor argmax(const Tensor& x, int axis, bool keepdims = false);
// Sums x down to `shape` (the inverse of broadcasting): the adjoint of broadcast_to.
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// ---- shape and indexing (ops_layout.cpp) ----
// Shares storage. One entry may be -1.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);
Tensor unsqueeze(const Tensor& x, int axis);
Tensor squeeze(const Tensor& x, int axis);
Tensor permute(const Tensor& x, const std::vector<int>& perm);
Tensor transpose(const Tensor& x, int axis0 = -2, int axis1 = -1);
// Elements start, start + step, ... < stop along `axis` (step > 0; negative start/stop count from the end).
Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// out[..., i, ...] = x[..., index[..., i, ...], ...] along axis (index: i64, x's shape except along axis).
Tensor gather(const Tensor& x, int axis, const Tensor& index);
// base with src added at the positions index names along axis (index: i64, src's shape).
Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);
// base with src[..., k, ...] added at index[k] along axis (index: 1-D i64): index_select's adjoint.
Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);

enum class PadMode { constant, periodic, edge };
// widths[d] = {before, after} for every axis d.
Tensor pad(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& widths,
           PadMode mode = PadMode::constant, double value = 0.0);
Tensor concat(const std::vector<Tensor>& xs, int axis = 0);
Tensor stack(const std::vector<Tensor>& xs, int axis = 0);
// out[i] = x[i - shift] along axis, periodically.
Tensor roll(const Tensor& x, std::int64_t shift, int axis);
Tensor flip(const Tensor& x, int axis);
// x on `device` (x itself when it is there); the gradient goes back to x's device.
Tensor to_device(const Tensor& x, Device device);

// ---- linear algebra (ops_linalg.cpp) ----
// [..., m, k] @ [..., k, n]; leading axes broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace dphys
