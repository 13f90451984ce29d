// Unary elementwise ops: forward via engine/elementwise, VJPs in differentiable ops.
#include <cmath>

#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/elementwise.h"

namespace dphys {

using kernel::UnaryOp;
using Grads = std::vector<Tensor>;

Tensor neg(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::neg, x);
  if (!needs_grad(x)) return out;
  return record("neg", {x}, out, [](const Tensor& g, const Tensor&) { return Grads{neg(g)}; });
}

Tensor exp(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::exp, x);
  if (!needs_grad(x)) return out;
  return record(
      "exp", {x}, out, [](const Tensor& g, const Tensor& y) { return Grads{g * y}; }, KeepOutput::yes);
}

Tensor log(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::log, x);
  if (!needs_grad(x)) return out;
  return record("log", {x}, out,
                [sx = Saved(x)](const Tensor& g, const Tensor&) { return Grads{g / sx.get()}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::sqrt, x);
  if (!needs_grad(x)) return out;
  return record(
      "sqrt", {x}, out, [](const Tensor& g, const Tensor& y) { return Grads{g * 0.5 / y}; }, KeepOutput::yes);
}

Tensor sin(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::sin, x);
  if (!needs_grad(x)) return out;
  return record("sin", {x}, out,
                [sx = Saved(x)](const Tensor& g, const Tensor&) { return Grads{g * cos(sx.get())}; });
}

Tensor cos(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::cos, x);
  if (!needs_grad(x)) return out;
  return record("cos", {x}, out,
                [sx = Saved(x)](const Tensor& g, const Tensor&) { return Grads{neg(g * sin(sx.get()))}; });
}

Tensor tanh(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::tanh, x);
  if (!needs_grad(x)) return out;
  return record(
      "tanh", {x}, out, [](const Tensor& g, const Tensor& y) { return Grads{g * (1.0 - y * y)}; },
      KeepOutput::yes);
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::sigmoid, x);
  if (!needs_grad(x)) return out;
  return record(
      "sigmoid", {x}, out, [](const Tensor& g, const Tensor& y) { return Grads{g * y * (1.0 - y)}; },
      KeepOutput::yes);
}

Tensor relu(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::relu, x);
  if (!needs_grad(x)) return out;
  return record("relu", {x}, out, [sx = Saved(x)](const Tensor& g, const Tensor&) {
    return Grads{g * gt(sx.get(), scalar(0.0, sx.get().dtype(), sx.get().device()))};
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::abs, x);
  if (!needs_grad(x)) return out;
  return record("abs", {x}, out,
                [sx = Saved(x)](const Tensor& g, const Tensor&) { return Grads{g * sign(sx.get())}; });
}

Tensor sign(const Tensor& x) { return kernel::unary(UnaryOp::sign, x); }

Tensor square(const Tensor& x) { return mul(x, x); }

Tensor erf(const Tensor& x) {
  Tensor out = kernel::unary(UnaryOp::erf, x);
  if (!needs_grad(x)) return out;
  return record("erf", {x}, out, [sx = Saved(x)](const Tensor& g, const Tensor&) {
    const Tensor& v = sx.get();
    return Grads{g * (M_2_SQRTPI * exp(neg(v * v)))};
  });
}

Tensor clamp(const Tensor& x, double low, double high) {
  DPHYS_CHECK(low <= high, "clamp: low {} exceeds high {} (shape {})", low, high, shape_str(x.shape()));
  return minimum(maximum(x, scalar(low, x.dtype(), x.device())), scalar(high, x.dtype(), x.device()));
}

Tensor cast(const Tensor& x, DType dtype) {
  if (dtype == x.dtype()) return x;
  Tensor out = kernel::cast(x, dtype);
  if (!needs_grad(x)) return out;
  const DType from = x.dtype();
  return record("cast", {x}, out, [from](const Tensor& g, const Tensor&) { return Grads{cast(g, from)}; });
}

}  // namespace dphys
