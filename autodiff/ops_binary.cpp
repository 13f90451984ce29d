// Binary elementwise ops with broadcasting. Each VJP sums the cotangent back to its input's shape (sum_to)
// and dtype, the adjoint of broadcasting and promotion.
#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/elementwise.h"

namespace dphys {

using kernel::BinaryOp;
using Grads = std::vector<Tensor>;

namespace {

// What a VJP needs to know of an input it does not otherwise use; saving the tensor would pin its memory.
struct InputMeta {
  Shape shape;
  DType dtype;
  explicit InputMeta(const Tensor& x) : shape(x.shape()), dtype(x.dtype()) {}
};

// The cotangent of an input that was broadcast and promoted to form the output.
Tensor unbroadcast(const Tensor& g, const Shape& shape, DType dtype) { return cast(sum_to(g, shape), dtype); }
Tensor unbroadcast(const Tensor& g, const Tensor& input) {
  return unbroadcast(g, input.shape(), input.dtype());
}
Tensor unbroadcast(const Tensor& g, const InputMeta& input) {
  return unbroadcast(g, input.shape, input.dtype);
}

Tensor scalar_like(double value, const Tensor& x) { return scalar(value, x.dtype(), x.device()); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::add, a, b);
  if (!needs_grad(a, b)) return out;
  return record("add", {a, b}, out, [ma = InputMeta(a), mb = InputMeta(b)](const Tensor& g, const Tensor&) {
    return Grads{unbroadcast(g, ma), unbroadcast(g, mb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::sub, a, b);
  if (!needs_grad(a, b)) return out;
  return record("sub", {a, b}, out, [ma = InputMeta(a), mb = InputMeta(b)](const Tensor& g, const Tensor&) {
    return Grads{unbroadcast(g, ma), unbroadcast(neg(g), mb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::mul, a, b);
  if (!needs_grad(a, b)) return out;
  return record("mul", {a, b}, out, [sa = Saved(a), sb = Saved(b)](const Tensor& g, const Tensor&) {
    const Tensor &x = sa.get(), &y = sb.get();
    return Grads{unbroadcast(g * y, x), unbroadcast(g * x, y)};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::div, a, b);
  if (!needs_grad(a, b)) return out;
  return record("div", {a, b}, out, [sa = Saved(a), sb = Saved(b)](const Tensor& g, const Tensor&) {
    const Tensor &x = sa.get(), &y = sb.get();
    const Tensor gx = g / y;
    return Grads{unbroadcast(gx, x), unbroadcast(neg(gx * x / y), y)};
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::pow, a, b);
  if (!needs_grad(a, b)) return out;
  return record(
      "pow", {a, b}, out,
      [sa = Saved(a), sb = Saved(b), exponent_grad = b.requires_grad()](const Tensor& g, const Tensor& y) {
        const Tensor &x = sa.get(), &p = sb.get();
        const Tensor zero = zeros_like(y);
        // p·x^(p−1) is 0·∞ = NaN at x = 0 when p = 0, where the derivative of the constant x⁰ is 0.
        const Tensor dx = where(eq(p, zeros_like(p)), zero, p * pow(x, p - 1.0));
        // log(x) is only defined for x > 0: skip it when the exponent is a constant (pow(x, 2)). At x = 0
        // with p ≥ 0, y·log x is 0·(−∞): its limit, 0, as PyTorch takes it.
        const Tensor gp =
            exponent_grad
                ? unbroadcast(g * where(eq(x, zeros_like(x)) * ge(p, zeros_like(p)), zero, y * log(x)), p)
                : Tensor();
        return Grads{unbroadcast(g * dx, x), gp};
      },
      KeepOutput::yes);
}

Tensor pow(const Tensor& a, double exponent) { return pow(a, scalar_like(exponent, a)); }

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::maximum, a, b);
  if (!needs_grad(a, b)) return out;
  return record("maximum", {a, b}, out, [sa = Saved(a), sb = Saved(b)](const Tensor& g, const Tensor&) {
    const Tensor &x = sa.get(), &y = sb.get();
    const Tensor take_a = ge(x, y);
    return Grads{unbroadcast(g * take_a, x), unbroadcast(g * (1.0 - take_a), y)};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::binary(BinaryOp::minimum, a, b);
  if (!needs_grad(a, b)) return out;
  return record("minimum", {a, b}, out, [sa = Saved(a), sb = Saved(b)](const Tensor& g, const Tensor&) {
    const Tensor &x = sa.get(), &y = sb.get();
    const Tensor take_a = le(x, y);
    return Grads{unbroadcast(g * take_a, x), unbroadcast(g * (1.0 - take_a), y)};
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor out = kernel::where(cond, a, b);
  if (!needs_grad(a, b)) return out;
  return record(
      "where", {a, b}, out,
      [sc = Saved(cond), ma = InputMeta(a), mb = InputMeta(b)](const Tensor& g, const Tensor&) {
        const Tensor zero = scalar_like(0.0, g);
        return Grads{unbroadcast(where(sc.get(), g, zero), ma), unbroadcast(where(sc.get(), zero, g), mb)};
      });
}

Tensor eq(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return kernel::binary(BinaryOp::ge, a, b); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(b, a)); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(a, b), b); }

}  // namespace dphys
