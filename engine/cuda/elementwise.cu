// Device kernels of engine/elementwise.cpp: the same formulas, NaN rules included, on f32 and f64.
#include <cmath>

#include "engine/cuda/indexing.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void unary_typed(UnaryOp op, std::int64_t n, const T* x, T* o) {
  switch (op) {
    case UnaryOp::neg:
      return for_each("neg", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = -x[i]; });
    case UnaryOp::exp:
      return for_each("exp", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::exp(x[i]); });
    case UnaryOp::log:
      return for_each("log", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::log(x[i]); });
    case UnaryOp::sqrt:
      return for_each("sqrt", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::sqrt(x[i]); });
    case UnaryOp::sin:
      return for_each("sin", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::sin(x[i]); });
    case UnaryOp::cos:
      return for_each("cos", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::cos(x[i]); });
    case UnaryOp::tanh:
      return for_each("tanh", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::tanh(x[i]); });
    case UnaryOp::sigmoid:
      return for_each("sigmoid", n,
                      [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = T(1) / (T(1) + std::exp(-x[i])); });
    case UnaryOp::relu:
      return for_each("relu", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
        const T v = x[i];
        o[i] = v > T(0) || v != v ? v : T(0);
      });
    case UnaryOp::abs:
      return for_each("abs", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::fabs(x[i]); });
    case UnaryOp::sign:
      return for_each("sign", n,
                      [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = T((x[i] > T(0)) - (x[i] < T(0))); });
    case UnaryOp::erf:
      return for_each("erf", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = std::erf(x[i]); });
  }
}

template <class T, class F>
void map_binary(const char* kernel, const Indexing<2>& index, const T* a, const T* b, T* o, F f) {
  for_each(kernel, element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    std::int64_t off[2];
    offsets_of(index, i, off);
    o[i] = f(a[off[0]], b[off[1]]);
  });
}

template <class T>
void binary_typed(BinaryOp op, const Indexing<2>& index, const T* a, const T* b, T* o) {
  switch (op) {
    case BinaryOp::add:
      return map_binary("add", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return x + y; });
    case BinaryOp::sub:
      return map_binary("sub", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return x - y; });
    case BinaryOp::mul:
      return map_binary("mul", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return x * y; });
    case BinaryOp::div:
      return map_binary("div", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return x / y; });
    case BinaryOp::pow:
      return map_binary("pow", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return std::pow(x, y); });
    // NaN propagates from either operand, as on the CPU.
    case BinaryOp::maximum:
      return map_binary("maximum", index, a, b, o,
                        [] DPHYS_HOST_DEVICE(T x, T y) { return x != x || x > y ? x : y; });
    case BinaryOp::minimum:
      return map_binary("minimum", index, a, b, o,
                        [] DPHYS_HOST_DEVICE(T x, T y) { return x != x || x < y ? x : y; });
    case BinaryOp::eq:
      return map_binary("eq", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x == y); });
    case BinaryOp::ne:
      return map_binary("ne", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x != y); });
    case BinaryOp::lt:
      return map_binary("lt", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x < y); });
    case BinaryOp::le:
      return map_binary("le", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x <= y); });
    case BinaryOp::gt:
      return map_binary("gt", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x > y); });
    case BinaryOp::ge:
      return map_binary("ge", index, a, b, o, [] DPHYS_HOST_DEVICE(T x, T y) { return T(x >= y); });
  }
}

template <class C, class T>
void where_typed(const Indexing<3>& index, const C* cond, const T* a, const T* b, T* o) {
  for_each("where", element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    std::int64_t off[3];
    offsets_of(index, i, off);
    o[i] = cond[off[0]] != C(0) ? a[off[1]] : b[off[2]];
  });
}

template <class S, class D>
void cast_typed(std::int64_t n, const S* x, D* o) {
  for_each("cast", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { o[i] = static_cast<D>(x[i]); });
}

template <class S>
void cast_from(DType to, std::int64_t n, const S* x, void* out) {
  switch (to) {
    case DType::f32:
      return cast_typed(n, x, static_cast<float*>(out));
    case DType::f64:
      return cast_typed(n, x, static_cast<double*>(out));
    default:
      return cast_typed(n, x, static_cast<std::int64_t*>(out));
  }
}

template <class T>
void add_scaled_typed(const Indexing<1>& index, T alpha, const T* b, T* a) {
  for_each("add_", element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    std::int64_t off[1];
    offsets_of(index, i, off);
    a[i] += alpha * b[off[0]];
  });
}

template <class T>
void scale_typed(std::int64_t n, T factor, T* a) {
  for_each("mul_", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { a[i] *= factor; });
}

template <class T>
void fill_typed(std::int64_t n, T value, T* a) {
  for_each("fill", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) { a[i] = value; });
}

}  // namespace

// The tensor-level callers have checked the dtypes: f32 or f64 (fill and cast: i64 too).
void unary(UnaryOp op, DType dtype, std::int64_t n, const void* x, void* out) {
  if (dtype == DType::f32) return unary_typed(op, n, static_cast<const float*>(x), static_cast<float*>(out));
  unary_typed(op, n, static_cast<const double*>(x), static_cast<double*>(out));
}

void binary(BinaryOp op, DType dtype, const Indexing<2>& index, const void* a, const void* b, void* out) {
  if (dtype == DType::f32)
    return binary_typed(op, index, static_cast<const float*>(a), static_cast<const float*>(b),
                        static_cast<float*>(out));
  binary_typed(op, index, static_cast<const double*>(a), static_cast<const double*>(b),
               static_cast<double*>(out));
}

void where(DType cond_dtype, DType dtype, const Indexing<3>& index, const void* cond, const void* a,
           const void* b, void* out) {
  if (cond_dtype == DType::f32) {
    if (dtype == DType::f32)
      return where_typed(index, static_cast<const float*>(cond), static_cast<const float*>(a),
                         static_cast<const float*>(b), static_cast<float*>(out));
    return where_typed(index, static_cast<const float*>(cond), static_cast<const double*>(a),
                       static_cast<const double*>(b), static_cast<double*>(out));
  }
  if (dtype == DType::f32)
    return where_typed(index, static_cast<const double*>(cond), static_cast<const float*>(a),
                       static_cast<const float*>(b), static_cast<float*>(out));
  where_typed(index, static_cast<const double*>(cond), static_cast<const double*>(a),
              static_cast<const double*>(b), static_cast<double*>(out));
}

void cast(DType from, DType to, std::int64_t n, const void* x, void* out) {
  switch (from) {
    case DType::f32:
      return cast_from(to, n, static_cast<const float*>(x), out);
    case DType::f64:
      return cast_from(to, n, static_cast<const double*>(x), out);
    default:
      return cast_from(to, n, static_cast<const std::int64_t*>(x), out);
  }
}

void add_scaled(DType dtype, const Indexing<1>& index, double alpha, const void* b, void* a) {
  if (dtype == DType::f32)
    return add_scaled_typed(index, static_cast<float>(alpha), static_cast<const float*>(b),
                            static_cast<float*>(a));
  add_scaled_typed(index, alpha, static_cast<const double*>(b), static_cast<double*>(a));
}

void scale(DType dtype, std::int64_t n, double factor, void* a) {
  if (dtype == DType::f32) return scale_typed(n, static_cast<float>(factor), static_cast<float*>(a));
  scale_typed(n, factor, static_cast<double*>(a));
}

void fill(DType dtype, std::int64_t n, double value, void* a) {
  switch (dtype) {
    case DType::f32:
      return fill_typed(n, static_cast<float>(value), static_cast<float*>(a));
    case DType::f64:
      return fill_typed(n, value, static_cast<double*>(a));
    default:
      return fill_typed(n, static_cast<std::int64_t>(value), static_cast<std::int64_t*>(a));
  }
}

}  // namespace dphys::device_kernel
