#include "engine/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/argmax_order.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/layout.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "reduce";
}

// f32 sums accumulate in f64: long reductions (losses over a batch of grids) otherwise lose digits.
template <class T>
using Accumulator =
    std::conditional_t<std::is_same_v<T, float>, double, std::conditional_t<std::is_same_v<T, c64>, c128, T>>;

template <class T>
T combine(ReduceOp op, T acc, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    // NaN propagates wherever it sits, as in NumPy and PyTorch (std::max alone depends on the order).
    if (op != ReduceOp::sum && (std::isnan(acc) || std::isnan(v))) return std::numeric_limits<T>::quiet_NaN();
    if (op == ReduceOp::max) return std::max(acc, v);
    if (op == ReduceOp::min) return std::min(acc, v);
  }
  return acc + v;
}

// Reduces the middle axis of x viewed as [outer, n, inner]. Rows of `inner` contiguous values are combined
// in order, so the inner loop vectorises; a single long contiguous reduction (outer = 1, inner = 1, the
// sum over one large field) is split into chunks reduced in parallel and combined in chunk order.
template <class T>
void reduce_middle(ReduceOp op, const T* in, T* out, std::int64_t outer, std::int64_t n, std::int64_t inner) {
  using A = Accumulator<T>;
  const auto reduce_range = [op](const T* p, std::int64_t count) {
    A acc = op == ReduceOp::sum ? A(0) : A(p[0]);
    for (std::int64_t k = op == ReduceOp::sum ? 0 : 1; k < count; ++k) acc = combine<A>(op, acc, A(p[k]));
    return acc;
  };
  if (inner == 1 && outer == 1 && n >= 2 * kParallelGrain) {
    const std::int64_t chunk = kParallelGrain, chunks = (n + chunk - 1) / chunk;
    std::vector<A> partial(chunks);
    parallel_for(chunks, chunk, [&](std::int64_t c) {
      partial[c] = reduce_range(in + c * chunk, std::min(chunk, n - c * chunk));
    });
    A acc = partial[0];
    for (std::int64_t c = 1; c < chunks; ++c) acc = combine<A>(op, acc, partial[c]);
    out[0] = static_cast<T>(acc);
    return;
  }
  parallel_for(outer, n * inner, [&](std::int64_t o) {
    const T* base = in + o * n * inner;
    T* dst = out + o * inner;
    if (inner == 1) {
      dst[0] = static_cast<T>(reduce_range(base, n));
      return;
    }
    std::vector<A> acc(base, base + inner);
    if (op == ReduceOp::sum) std::fill(acc.begin(), acc.end(), A(0));
    for (std::int64_t k = op == ReduceOp::sum ? 0 : 1; k < n; ++k) {
      const T* row = base + k * inner;
      for (std::int64_t i = 0; i < inner; ++i) acc[i] = combine<A>(op, acc[i], A(row[i]));
    }
    for (std::int64_t i = 0; i < inner; ++i) dst[i] = static_cast<T>(acc[i]);
  });
}

// Sizes of x viewed as [outer, n, inner] around the axis range [first, last].
void split_at_axes(const Shape& shape, int first, int last, std::int64_t& outer, std::int64_t& n,
                   std::int64_t& inner) {
  outer = n = inner = 1;
  for (int d = 0; d < first; ++d) outer *= shape[d];
  for (int d = first; d <= last; ++d) n *= shape[d];
  for (std::size_t d = last + 1; d < shape.size(); ++d) inner *= shape[d];
}

}  // namespace

std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op, const Shape& shape) {
  std::vector<int> result;
  if (axes.empty()) {
    for (int d = 0; d < ndim; ++d) result.push_back(d);
    return result;
  }
  for (int a : axes) result.push_back(normalize_axis(a, ndim, op, shape));
  std::sort(result.begin(), result.end());
  DPHYS_CHECK(std::adjacent_find(result.begin(), result.end()) == result.end(), "{}: repeated axis in [{}]",
              op, fmt::join(axes, ", "));
  return result;
}

Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims) {
  Shape out;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      out.push_back(shape[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int> axes, bool keepdims) {
  const char* name = op_name(op);
  axes = normalize_axes(axes, x.dim(), name, x.shape());
  if (op != ReduceOp::sum) {
    DPHYS_CHECK(!is_complex(x.dtype()), "{}: not defined for complex dtype {}", name, dtype_name(x.dtype()));
    for (int a : axes)
      DPHYS_CHECK(x.shape()[a] > 0, "{}: cannot reduce the empty axis {} of shape {}", name, a,
                  shape_str(x.shape()));
  }
  // Adjacent reduced axes are contiguous in memory: reduce each run of them in one pass.
  Tensor current = x;
  for (std::size_t i = 0; i < axes.size();) {
    std::size_t j = i;
    while (j + 1 < axes.size() && axes[j + 1] == axes[j] + 1) ++j;
    std::int64_t outer, n, inner;
    split_at_axes(current.shape(), axes[i], axes[j], outer, n, inner);
    Shape shape = current.shape();
    for (std::size_t k = i; k <= j; ++k) shape[axes[k]] = 1;
    Tensor out = Tensor::empty(shape, x.dtype(), x.device());
    if (!x.device().is_cpu()) {
      check_device_dtype(name, x);
      device_kernel::reduce_middle(op, x.dtype(), outer, n, inner, device_address(current),
                                   device_address(out));
      current = out;
      i = j + 1;
      continue;
    }
    dispatch_floating(x.dtype(), name, [&](auto t) {
      using T = decltype(t);
      reduce_middle<T>(op, current.data<T>(), out.data<T>(), outer, n, inner);
    });
    current = out;
    i = j + 1;
  }
  if (axes.empty()) current = x.clone();
  if (keepdims) return current;
  return reshape(current, reduced_shape(x.shape(), axes, false));
}

Tensor argmax(const Tensor& x, int axis, bool keepdims) {
  axis = normalize_axis(axis, x.dim(), "argmax", x.shape());
  DPHYS_CHECK(x.shape()[axis] > 0, "argmax: cannot reduce the empty axis {} of shape {}", axis,
              shape_str(x.shape()));
  std::int64_t outer, n, inner;
  split_at_axes(x.shape(), axis, axis, outer, n, inner);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), {axis}, keepdims), DType::i64, x.device());
  if (!x.device().is_cpu()) {
    check_device_dtype("argmax", x);
    device_kernel::argmax_middle(x.dtype(), outer, n, inner, device_address(x), device_address(out));
    return out;
  }
  std::int64_t* dst = out.data<std::int64_t>();
  dispatch_real(x.dtype(), "argmax", [&](auto t) {
    using T = decltype(t);
    const T* in = x.data<T>();
    parallel_for(outer, n * inner, [&](std::int64_t o) {
      for (std::int64_t i = 0; i < inner; ++i) {
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < n; ++k)
          if (argmax_beats(in[(o * n + k) * inner + i], in[(o * n + best) * inner + i])) best = k;
        dst[o * inner + i] = best;
      }
    });
  });
  return out;
}

}  // namespace dphys::kernel
