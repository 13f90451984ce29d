// Device kernels of engine/reduce.cpp. Many outputs: one thread per output walks the reduced axis. Few
// outputs (a loss, a CG dot product): one block per output reduces in shared memory on a GPU; the emulated
// device walks the axis serially, so that path is only checked on a GPU.
#include <type_traits>

#include "engine/cuda/indexing.h"

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

#if defined(__CUDACC__)
constexpr int kReduceBlock = 256;

template <class T>
__global__ void reduce_per_block(ReduceOp op, std::int64_t outputs, std::int64_t n, std::int64_t inner,
                                 const T* x, T* out) {
  using A = Accumulator<T>;
  __shared__ A partial[kReduceBlock];
  for (std::int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const T* base = x + (o / inner) * n * inner + o % inner;
    A acc = op == ReduceOp::sum ? A(0) : A(base[0]);
    for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) acc = combine<A>(op, acc, A(base[k * inner]));
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int half = kReduceBlock / 2; half > 0; half /= 2) {
      if (threadIdx.x < half)
        partial[threadIdx.x] = combine<A>(op, partial[threadIdx.x], partial[threadIdx.x + half]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = static_cast<T>(partial[0]);
    __syncthreads();
  }
}
#endif

template <class T>
void reduce_typed(ReduceOp op, std::int64_t outer, std::int64_t n, std::int64_t inner, const T* x, T* out) {
  const std::int64_t outputs = outer * inner;
  if (outputs == 0) return;
#if defined(__CUDACC__)
  // Below a few thousand outputs the per-thread loop leaves most of the GPU idle.
  if (outputs < 4096 && n >= 256) {
    const std::int64_t blocks = outputs < 65535 ? outputs : 65535;
    reduce_per_block<T><<<static_cast<unsigned>(blocks), kReduceBlock>>>(op, outputs, n, inner, x, out);
    return check_launch("reduce");
  }
#endif
  reduce_per_thread(op, outputs, n, inner, x, out);
}

template <class T>
void argmax_typed(std::int64_t outer, std::int64_t n, std::int64_t inner, const T* x, std::int64_t* out) {
  for_each("argmax", outer * inner, [=] DPHYS_HOST_DEVICE(std::int64_t o) {
    const T* base = x + (o / inner) * n * inner + o % inner;
    std::int64_t best = 0;
    for (std::int64_t k = 1; k < n; ++k)
      if (base[k * inner] > base[best * inner]) best = k;
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

}  // namespace dphys::device_kernel
