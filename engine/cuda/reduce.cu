// Device kernels of engine/reduce.cpp. Many outputs: one thread per output walks the reduced axis. Few
// outputs of long rows (a loss, a norm): several lanes per output and a second pass (segment_reduce.h).
#include <limits>
#include <type_traits>

#include "engine/argmax_order.h"
#include "engine/cuda/indexing.h"
#include "engine/cuda/segment_reduce.h"

namespace dphys::device_kernel {

namespace {

// f32 sums accumulate in f64, as on the CPU.
template <class T>
using Accumulator = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class A>
DPHYS_HOST_DEVICE A combine(ReduceOp op, A acc, A v) {
  if (op == ReduceOp::sum) return acc + v;
  if (acc != acc) return acc;  // NaN propagates wherever it sits
  if (v != v) return v;
  if (op == ReduceOp::max) return v > acc ? v : acc;
  return v < acc ? v : acc;
}

template <class T>
void reduce_per_thread(ReduceOp op, std::int64_t outputs, std::int64_t n, std::int64_t inner, const T* x,
                       T* out) {
  using A = Accumulator<T>;
  for_each("reduce", outputs, [=] DPHYS_HOST_DEVICE(std::int64_t o) {
    const T* base = x + (o / inner) * n * inner + o % inner;
    A acc = op == ReduceOp::sum ? A(0) : A(base[0]);
    for (std::int64_t k = 0; k < n; ++k) acc = combine<A>(op, acc, A(base[k * inner]));
    out[o] = static_cast<T>(acc);
  });
}

// The accumulator's start: nothing for a sum, the far end of the range for max and min, so that the first
// value wins (and a NaN still propagates through combine).
template <class A>
A identity_of(ReduceOp op) {
  if (op == ReduceOp::sum) return A(0);
  const A infinity = std::numeric_limits<A>::infinity();
  return op == ReduceOp::max ? -infinity : infinity;
}

template <class A>
struct Combine {
  ReduceOp op;
  DPHYS_HOST_DEVICE A operator()(A acc, A v) const { return combine<A>(op, acc, v); }
};

template <class T>
struct StoreCast {
  T* out;
  template <class A>
  DPHYS_HOST_DEVICE void operator()(std::int64_t s, A v) const {
    out[s] = static_cast<T>(v);
  }
};

template <class T>
void reduce_typed(ReduceOp op, std::int64_t outer, std::int64_t n, std::int64_t inner, const T* x, T* out) {
  using A = Accumulator<T>;
  const std::int64_t outputs = outer * inner;
  if (outputs == 0) return;
  // Few outputs of long rows (a loss, a norm): lanes per output, or most of the GPU would idle.
  if (outputs < 4096 && n >= 256) {
    return segment_reduce<A>(
        "reduce", outputs, n, identity_of<A>(op),
        [=] DPHYS_HOST_DEVICE(std::int64_t o, std::int64_t k) {
          return static_cast<A>(x[(o / inner) * n * inner + o % inner + k * inner]);
        },
        Combine<A>{op}, StoreCast<T>{out});
  }
  reduce_per_thread(op, outputs, n, inner, x, out);
}

template <class T>
void argmax_typed(std::int64_t outer, std::int64_t n, std::int64_t inner, const T* x, std::int64_t* out) {
  for_each("argmax", outer * inner, [=] DPHYS_HOST_DEVICE(std::int64_t o) {
    const T* base = x + (o / inner) * n * inner + o % inner;
    std::int64_t best = 0;
    for (std::int64_t k = 1; k < n; ++k)
      if (kernel::argmax_beats(base[k * inner], base[best * inner])) best = k;
    out[o] = best;
  });
}

}  // namespace

void reduce_middle(ReduceOp op, DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner,
                   const void* x, void* out) {
  if (dtype == DType::f32)
    return reduce_typed(op, outer, n, inner, static_cast<const float*>(x), static_cast<float*>(out));
  reduce_typed(op, outer, n, inner, static_cast<const double*>(x), static_cast<double*>(out));
}

void argmax_middle(DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner, const void* x,
                   void* out) {
  if (dtype == DType::f32)
    return argmax_typed(outer, n, inner, static_cast<const float*>(x), static_cast<std::int64_t*>(out));
  argmax_typed(outer, n, inner, static_cast<const double*>(x), static_cast<std::int64_t*>(out));
}

void fail_unless_zero(DType dtype, const void* value, KernelCheck check) {
  const bool single = dtype == DType::f32;
  const float* f = static_cast<const float*>(value);
  const double* d = static_cast<const double*>(value);
  for_each("check_zero", 1, [=] DPHYS_HOST_DEVICE(std::int64_t) {
    if ((single ? static_cast<double>(f[0]) : d[0]) != 0.0) check.fail();
  });
}

}  // namespace dphys::device_kernel
