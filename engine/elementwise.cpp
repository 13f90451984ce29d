#include "engine/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/broadcast_loop.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"

namespace dphys::kernel {

const char* op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg:
      return "neg";
    case UnaryOp::exp:
      return "exp";
    case UnaryOp::log:
      return "log";
    case UnaryOp::sqrt:
      return "sqrt";
    case UnaryOp::sin:
      return "sin";
    case UnaryOp::cos:
      return "cos";
    case UnaryOp::tanh:
      return "tanh";
    case UnaryOp::sigmoid:
      return "sigmoid";
    case UnaryOp::relu:
      return "relu";
    case UnaryOp::abs:
      return "abs";
    case UnaryOp::sign:
      return "sign";
    case UnaryOp::erf:
      return "erf";
  }
  return "unary";
}

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "add";
    case BinaryOp::sub:
      return "sub";
    case BinaryOp::mul:
      return "mul";
    case BinaryOp::div:
      return "div";
    case BinaryOp::pow:
      return "pow";
    case BinaryOp::maximum:
      return "maximum";
    case BinaryOp::minimum:
      return "minimum";
    case BinaryOp::eq:
      return "eq";
    case BinaryOp::ne:
      return "ne";
    case BinaryOp::lt:
      return "lt";
    case BinaryOp::le:
      return "le";
    case BinaryOp::gt:
      return "gt";
    case BinaryOp::ge:
      return "ge";
  }
  return "binary";
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  DPHYS_CHECK(a.device() == b.device(),
              "{}: tensors are on different devices ({} with shape {} and {} with shape {})", op,
              a.device().str(), shape_str(a.shape()), b.device().str(), shape_str(b.shape()));
}

namespace {

template <class T, class F>
void map_unary(const Tensor& x, const Tensor& out, F f) {
  const T* in = x.data<T>();
  T* o = out.data<T>();
  parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = f(in[i]); });
}

// Real and complex element types; the ops that need an ordering (relu, sign, ...) are real only.
template <class T>
void run_unary(UnaryOp op, const Tensor& x, const Tensor& out) {
  switch (op) {
    case UnaryOp::neg:
      return map_unary<T>(x, out, [](T v) { return -v; });
    case UnaryOp::exp:
      return map_unary<T>(x, out, [](T v) { return std::exp(v); });
    case UnaryOp::log:
      return map_unary<T>(x, out, [](T v) { return std::log(v); });
    case UnaryOp::sqrt:
      return map_unary<T>(x, out, [](T v) { return std::sqrt(v); });
    case UnaryOp::sin:
      return map_unary<T>(x, out, [](T v) { return std::sin(v); });
    case UnaryOp::cos:
      return map_unary<T>(x, out, [](T v) { return std::cos(v); });
    case UnaryOp::tanh:
      return map_unary<T>(x, out, [](T v) { return std::tanh(v); });
    default:
      break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::sigmoid:
        return map_unary<T>(x, out, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
      case UnaryOp::relu:
        return map_unary<T>(x, out, [](T v) { return v > T(0) || v != v ? v : T(0); });
      case UnaryOp::abs:
        return map_unary<T>(x, out, [](T v) { return std::abs(v); });
      case UnaryOp::sign:
        return map_unary<T>(x, out, [](T v) { return T((v > T(0)) - (v < T(0))); });
      case UnaryOp::erf:
        return map_unary<T>(x, out, [](T v) { return std::erf(v); });
      default:
        break;
    }
  }
  fail("{}: not defined for dtype {}", op_name(op), dtype_name(x.dtype()));
}

template <class T, class R, class F>
void map_binary(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  R* po = out.data<R>();
  if (a.shape() == b.shape()) {
    parallel_for(out.numel(), 1, [&](std::int64_t i) { po[i] = f(pa[i], pb[i]); });
  } else if (b.numel() == 1) {
    const T s = pb[0];
    parallel_for(out.numel(), 1, [&](std::int64_t i) { po[i] = f(pa[i], s); });
  } else if (a.numel() == 1) {
    const T s = pa[0];
    parallel_for(out.numel(), 1, [&](std::int64_t i) { po[i] = f(s, pb[i]); });
  } else {
    const std::array<Shape, 2> strides{broadcast_strides(a.shape(), out.shape()),
                                       broadcast_strides(b.shape(), out.shape())};
    for_each_broadcast<2>(out.shape(), strides, [&](std::int64_t i, const std::array<std::int64_t, 2>& off) {
      po[i] = f(pa[off[0]], pb[off[1]]);
    });
  }
}

template <class T>
void run_arithmetic(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case BinaryOp::add:
      return map_binary<T, T>(a, b, out, [](T x, T y) { return x + y; });
    case BinaryOp::sub:
      return map_binary<T, T>(a, b, out, [](T x, T y) { return x - y; });
    case BinaryOp::mul:
      return map_binary<T, T>(a, b, out, [](T x, T y) { return x * y; });
    case BinaryOp::div:
      return map_binary<T, T>(a, b, out, [](T x, T y) { return x / y; });
    default:
      break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case BinaryOp::pow:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return std::pow(x, y); });
      // NaN propagates from either operand, as in NumPy and PyTorch.
      case BinaryOp::maximum:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return x != x || x > y ? x : y; });
      case BinaryOp::minimum:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return x != x || x < y ? x : y; });
      case BinaryOp::eq:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x == y); });
      case BinaryOp::ne:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x != y); });
      case BinaryOp::lt:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x < y); });
      case BinaryOp::le:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x <= y); });
      case BinaryOp::gt:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x > y); });
      case BinaryOp::ge:
        return map_binary<T, T>(a, b, out, [](T x, T y) { return T(x >= y); });
      default:
        break;
    }
  }
  fail("{}: not defined for dtype {}", op_name(op), dtype_name(a.dtype()));
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  if (!x.device().is_cpu()) {
    check_device_dtype(op_name(op), x);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    device_kernel::unary(op, x.dtype(), x.numel(), device_address(x), device_address(out));
    return out;
  }
  if (op == UnaryOp::abs && is_complex(x.dtype())) {
    // |z| is real: the one complex unary op whose result changes dtype.
    Tensor out = Tensor::empty(x.shape(), x.dtype() == DType::c64 ? DType::f32 : DType::f64, x.device());
    dispatch_floating(x.dtype(), "abs", [&](auto t) {
      using T = decltype(t);
      if constexpr (!std::is_floating_point_v<T>) {
        using R = typename T::value_type;
        const T* in = x.data<T>();
        R* o = out.data<R>();
        parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = std::abs(in[i]); });
      }
    });
    return out;
  }
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), op_name(op), [&](auto t) { run_unary<decltype(t)>(op, x, out); });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  check_same_device(name, a, b);
  DPHYS_CHECK(is_floating(a.dtype()) && is_floating(b.dtype()), "{}: not defined for dtypes {} and {}", name,
              dtype_name(a.dtype()), dtype_name(b.dtype()));
  const DType dtype = promote_types(a.dtype(), b.dtype());
  const Tensor pa = a.dtype() == dtype ? a : cast(a, dtype);
  const Tensor pb = b.dtype() == dtype ? b : cast(b, dtype);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), name), dtype, a.device());
  if (!out.device().is_cpu()) {
    check_device_dtype(name, out);
    const auto index = device_indexing<2>(
        name, out.shape(),
        {broadcast_strides(pa.shape(), out.shape()), broadcast_strides(pb.shape(), out.shape())});
    device_kernel::binary(op, dtype, index, device_address(pa), device_address(pb), device_address(out));
    return out;
  }
  dispatch_floating(dtype, name, [&](auto t) { run_arithmetic<decltype(t)>(op, pa, pb, out); });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  const DType dtype = promote_types(a.dtype(), b.dtype());
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  const Tensor pa = a.dtype() == dtype ? a : cast(a, dtype);
  const Tensor pb = b.dtype() == dtype ? b : cast(b, dtype);
  Tensor out = Tensor::empty(shape, dtype, a.device());
  const std::array<Shape, 3> strides{broadcast_strides(cond.shape(), shape),
                                     broadcast_strides(a.shape(), shape),
                                     broadcast_strides(b.shape(), shape)};
  if (!out.device().is_cpu()) {
    check_device_dtype("where (condition)", cond);
    check_device_dtype("where", out);
    device_kernel::where(cond.dtype(), dtype, device_indexing<3>("where", shape, strides),
                         device_address(cond), device_address(pa), device_address(pb), device_address(out));
    return out;
  }
  dispatch_real(cond.dtype(), "where (condition)", [&](auto c) {
    using C = decltype(c);
    const C* pc = cond.data<C>();
    dispatch_floating(dtype, "where", [&](auto t) {
      using T = decltype(t);
      const T* x = pa.data<T>();
      const T* y = pb.data<T>();
      T* o = out.data<T>();
      for_each_broadcast<3>(shape, strides, [&](std::int64_t i, const std::array<std::int64_t, 3>& off) {
        o[i] = pc[off[0]] != C(0) ? x[off[1]] : y[off[2]];
      });
    });
  });
  return out;
}

Tensor conj(const Tensor& x) {
  if (!is_complex(x.dtype())) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    device_kernel::conjugate(x.dtype() == DType::c64 ? DType::f32 : DType::f64, x.numel(), device_address(x),
                             device_address(out));
    return out;
  }
  dispatch_floating(x.dtype(), "conj", [&](auto t) {
    using T = decltype(t);
    if constexpr (!std::is_floating_point_v<T>) {
      const T* in = x.data<T>();
      T* o = out.data<T>();
      parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = std::conj(in[i]); });
    }
  });
  return out;
}

Tensor cast(const Tensor& x, DType dtype) {
  if (dtype == x.dtype()) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  if (!x.device().is_cpu()) {
    // Complex numbers are pairs of reals: between complex types the components are cast; a real becomes
    // (x, 0) in its own precision first.
    DPHYS_CHECK(!is_complex(x.dtype()) || is_complex(dtype),
                "cast: {} to {} would drop the imaginary part; take real() explicitly", dtype_name(x.dtype()),
                dtype_name(dtype));
    const auto component = [](DType d) { return d == DType::c64 ? DType::f32 : DType::f64; };
    if (is_complex(x.dtype())) {
      device_kernel::cast(component(x.dtype()), component(dtype), 2 * x.numel(), device_address(x),
                          device_address(out));
    } else if (is_complex(dtype)) {
      const Tensor real = cast(x, component(dtype));
      device_kernel::real_to_complex(component(dtype), x.numel(), device_address(real), device_address(out));
    } else {
      check_device_dtype("cast", x, true);
      device_kernel::cast(x.dtype(), dtype, x.numel(), device_address(x), device_address(out));
    }
    return out;
  }
  dispatch_all(x.dtype(), "cast", [&](auto s) {
    using S = decltype(s);
    dispatch_all(dtype, "cast", [&](auto d) {
      using D = decltype(d);
      const S* in = x.data<S>();
      D* o = out.data<D>();
      constexpr bool from_complex = !std::is_arithmetic_v<S>;
      constexpr bool to_complex = !std::is_arithmetic_v<D>;
      if constexpr (from_complex && !to_complex) {
        fail("cast: {} to {} would drop the imaginary part; take real() explicitly", dtype_name(x.dtype()),
             dtype_name(dtype));
      } else if constexpr (from_complex && to_complex) {
        using R = typename D::value_type;
        parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = D(R(in[i].real()), R(in[i].imag())); });
      } else if constexpr (to_complex) {
        using R = typename D::value_type;
        parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = D(R(in[i]), R(0)); });
      } else {
        if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
          const S* bad =
              std::find_if(in, in + x.numel(), [](S v) { return !fits_i64(static_cast<double>(v)); });
          DPHYS_CHECK(bad == in + x.numel(),
                      "cast: {} value {} (element {} of shape {}) has no {} value: NaN, Inf or beyond 2^63",
                      dtype_name(x.dtype()), static_cast<double>(*bad), bad - in, shape_str(x.shape()),
                      dtype_name(dtype));
        }
        parallel_for(x.numel(), 1, [&](std::int64_t i) { o[i] = static_cast<D>(in[i]); });
      }
    });
  });
  return out;
}

void add_inplace(const Tensor& a, const Tensor& b, double alpha) {
  check_same_device("add_", a, b);
  DPHYS_CHECK(broadcast_shapes(a.shape(), b.shape(), "add_") == a.shape(),
              "add_: cannot add shape {} into shape {} in place", shape_str(b.shape()), shape_str(a.shape()));
  const Tensor pb = b.dtype() == a.dtype() ? b : cast(b, a.dtype());
  if (!a.device().is_cpu()) {
    check_device_dtype("add_", a);
    device_kernel::add_scaled(
        a.dtype(), device_indexing<1>("add_", a.shape(), {broadcast_strides(pb.shape(), a.shape())}), alpha,
        device_address(pb), device_address(a));
    return;
  }
  dispatch_floating(a.dtype(), "add_", [&](auto t) {
    using T = decltype(t);
    const T s = static_cast<T>(alpha);
    map_binary<T, T>(a, pb, a, [s](T x, T y) { return x + s * y; });
  });
}

void scale_inplace(const Tensor& a, double factor) {
  if (!a.device().is_cpu()) {
    check_device_dtype("mul_", a);
    return device_kernel::scale(a.dtype(), a.numel(), factor, device_address(a));
  }
  dispatch_floating(a.dtype(), "mul_", [&](auto t) {
    using T = decltype(t);
    map_unary<T>(a, a, [s = static_cast<T>(factor)](T v) { return v * s; });
  });
}

void fill(const Tensor& a, double value) {
  if (!a.device().is_cpu()) {
    check_device_dtype("fill", a, true);
    return device_kernel::fill(a.dtype(), a.numel(), value, device_address(a));
  }
  DPHYS_CHECK(a.dtype() != DType::i64 || fits_i64(value),
              "fill: {} has no i64 value: NaN, Inf or beyond 2^63 (tensor of shape {})", value,
              shape_str(a.shape()));
  dispatch_all(a.dtype(), "fill", [&](auto t) {
    using T = decltype(t);
    T* p = a.data<T>();
    std::fill(p, p + a.numel(), static_cast<T>(value));
  });
}

}  // namespace dphys::kernel
