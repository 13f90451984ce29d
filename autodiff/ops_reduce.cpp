// Reductions and their adjoints, broadcasting. sum and broadcast_to are each other's VJP.
#include "autodiff/grad_mode.h"
#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/elementwise.h"
#include "engine/layout.h"
#include "engine/reduce.h"

namespace dphys {

using Grads = std::vector<Tensor>;

namespace {

// The cotangent of a reduction, reshaped so it broadcasts against the input again.
Tensor expand_reduced(const Tensor& g, const Shape& input_shape, const std::vector<int>& axes) {
  return broadcast_to(reshape(g, kernel::reduced_shape(input_shape, axes, true)), input_shape);
}

Tensor reduce_extremum(kernel::ReduceOp op, const char* name, const Tensor& x, const std::vector<int>& axes,
                       bool keepdims) {
  Tensor out = kernel::reduce(op, x, axes, keepdims);
  if (!needs_grad(x)) return out;
  const std::vector<int> normalized = kernel::normalize_axes(axes, x.dim(), name, x.shape());
  return record(
      name, {x}, out,
      [sx = Saved(x), normalized](const Tensor& g, const Tensor& y) {
        const Tensor& input = sx.get();
        const Shape kept = kernel::reduced_shape(input.shape(), normalized, true);
        // Ties share the gradient equally, which keeps it a valid subgradient.
        const Tensor mask = eq(input, reshape(y.detach(), kept));
        const Tensor count = sum(mask, normalized, true);
        return Grads{expand_reduced(g, input.shape(), normalized) * (mask / count)};
      },
      KeepOutput::yes);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  Tensor out = kernel::reduce(kernel::ReduceOp::sum, x, axes, keepdims);
  if (!needs_grad(x)) return out;
  std::vector<int> normalized = kernel::normalize_axes(axes, x.dim(), "sum", x.shape());
  return record("sum", {x}, out, [shape = x.shape(), normalized](const Tensor& g, const Tensor&) {
    return Grads{expand_reduced(g, shape, normalized)};
  });
}

Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  const std::vector<int> normalized = kernel::normalize_axes(axes, x.dim(), "mean", x.shape());
  std::int64_t count = 1;
  for (int a : normalized) count *= x.shape()[a];
  DPHYS_CHECK(count > 0, "mean: reducing an empty axis of shape {}", shape_str(x.shape()));
  return sum(x, normalized, keepdims) / static_cast<double>(count);
}

Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  return reduce_extremum(kernel::ReduceOp::max, "max", x, axes, keepdims);
}

Tensor min(const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  return reduce_extremum(kernel::ReduceOp::min, "min", x, axes, keepdims);
}

Tensor norm(const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  const std::vector<int> normalized = kernel::normalize_axes(axes, x.dim(), "norm", x.shape());
  if (is_complex(x.dtype())) {
    // √Σ|z|²; complex autodiff has no convention here yet, so only values.
    DPHYS_CHECK(!needs_grad(x),
                "norm: gradients with respect to complex tensors are not supported (shape {})",
                shape_str(x.shape()));
    return norm(kernel::unary(kernel::UnaryOp::abs, x), normalized, keepdims);
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = sqrt(sum(x * x, normalized, keepdims));
  }
  if (!needs_grad(x)) return out;
  // ∂‖x‖/∂x = x/‖x‖, and 0 where ‖x‖ = 0 (the subgradient PyTorch takes): through sqrt and sum it was
  // ∞ · 0 = NaN there.
  return record(
      "norm", {x}, out,
      [sx = Saved(x), normalized](const Tensor& g, const Tensor& y) {
        const Tensor& input = sx.get();
        const Tensor n = expand_reduced(y, input.shape(), normalized);
        // n = 0 only where the whole input is 0: dividing by 1 there gives the 0.
        const Tensor safe = n + eq(n, zeros_like(n));
        return Grads{expand_reduced(g, input.shape(), normalized) * input / safe};
      },
      KeepOutput::yes);
}

Tensor argmax(const Tensor& x, int axis, bool keepdims) { return kernel::argmax(x, axis, keepdims); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  DPHYS_CHECK(shape.size() <= x.shape().size() && broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(),
              "sum_to: cannot sum shape {} down to {}", shape_str(x.shape()), shape_str(shape));
  const std::size_t lead = x.shape().size() - shape.size();
  std::vector<int> axes;
  for (std::size_t d = 0; d < x.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) axes.push_back(static_cast<int>(d));
  return reshape(sum(x, axes, true), shape);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor out = kernel::broadcast_to(x, shape);
  if (!needs_grad(x)) return out;
  return record("broadcast_to", {x}, out,
                [from = x.shape()](const Tensor& g, const Tensor&) { return Grads{sum_to(g, from)}; });
}

}  // namespace dphys
