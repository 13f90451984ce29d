// Device kernels of engine/batch_norm.cpp: per-channel sums as segment reductions (one segment per channel,
// neighbouring lanes reading neighbouring positions), and the elementwise passes.
#include <cmath>

#include "engine/batch_norm_element.h"
#include "engine/cuda/segment_reduce.h"
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

// Index of value k of channel ch in x viewed as [n, c, s].
DPHYS_HOST_DEVICE inline std::int64_t at(std::int64_t c, std::int64_t s, std::int64_t ch, std::int64_t k) {
  return ((k / s) * c + ch) * s + k % s;
}

struct Pair {
  double first, second;
};

struct PairPlus {
  DPHYS_HOST_DEVICE Pair operator()(Pair a, Pair b) const { return {a.first + b.first, a.second + b.second}; }
};

template <class T>
void statistics_typed(std::int64_t n, std::int64_t c, std::int64_t s, const T* x, T* mean, T* var) {
  const std::int64_t count = n * s;
  const double scale = 1.0 / static_cast<double>(count);
  segment_reduce<double>(
      "batch_norm (mean)", c, count, 0.0,
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, std::int64_t k) {
        return static_cast<double>(x[at(c, s, ch, k)]);
      },
      Plus(),
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, double total) { mean[ch] = static_cast<T>(total * scale); });
  segment_reduce<double>(
      "batch_norm (variance)", c, count, 0.0,
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, std::int64_t k) {
        const T d = x[at(c, s, ch, k)] - mean[ch];
        return static_cast<double>(d * d);
      },
      Plus(),
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, double total) { var[ch] = static_cast<T>(total * scale); });
}

template <class T>
void apply_typed(std::int64_t n, std::int64_t c, std::int64_t s, const T* x, const T* mean, const T* var,
                 const T* weight, const T* bias, double eps, T* y) {
  for_each("batch_norm", n * c * s, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    const std::int64_t ch = (i / s) % c;
    const T std = std::sqrt(var[ch] + static_cast<T>(eps));
    y[i] = batch_norm::output(x[i], mean[ch], std, weight[ch], bias[ch]);
  });
}

template <class T>
void backward_typed(std::int64_t n, std::int64_t c, std::int64_t s, const T* g, const T* x, const T* mean,
                    const T* var, const T* weight, double eps, T* dx, T* dweight, T* dbias, double* sums) {
  const std::int64_t count = n * s;
  segment_reduce<Pair>(
      "batch_norm (backward sums)", c, count, Pair{0.0, 0.0},
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, std::int64_t k) {
        const std::int64_t i = at(c, s, ch, k);
        const T std = std::sqrt(var[ch] + static_cast<T>(eps));
        return Pair{static_cast<double>(g[i]), static_cast<double>(g[i] * ((x[i] - mean[ch]) / std))};
      },
      PairPlus(),
      [=] DPHYS_HOST_DEVICE(std::int64_t ch, Pair total) {
        dbias[ch] = static_cast<T>(total.first);
        dweight[ch] = static_cast<T>(total.second);
        sums[2 * ch] = total.first;
        sums[2 * ch + 1] = total.second;
      });
  const double scale = 1.0 / static_cast<double>(count);
  for_each("batch_norm (backward)", n * c * s, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    const std::int64_t ch = (i / s) % c;
    const T std = std::sqrt(var[ch] + static_cast<T>(eps));
    dx[i] = batch_norm::input_grad(g[i], x[i], mean[ch], std, weight[ch], sums[2 * ch] * scale,
                                   sums[2 * ch + 1] * scale);
  });
}

}  // namespace

void batch_norm_statistics(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* x,
                           void* mean, void* var) {
  if (dtype == DType::f32)
    return statistics_typed(n, c, s, static_cast<const float*>(x), static_cast<float*>(mean),
                            static_cast<float*>(var));
  statistics_typed(n, c, s, static_cast<const double*>(x), static_cast<double*>(mean),
                   static_cast<double*>(var));
}

void batch_norm_apply(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* x,
                      const void* mean, const void* var, const void* weight, const void* bias, double eps,
                      void* y) {
  if (dtype == DType::f32)
    return apply_typed(n, c, s, static_cast<const float*>(x), static_cast<const float*>(mean),
                       static_cast<const float*>(var), static_cast<const float*>(weight),
                       static_cast<const float*>(bias), eps, static_cast<float*>(y));
  apply_typed(n, c, s, static_cast<const double*>(x), static_cast<const double*>(mean),
              static_cast<const double*>(var), static_cast<const double*>(weight),
              static_cast<const double*>(bias), eps, static_cast<double*>(y));
}

void batch_norm_backward(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* g,
                         const void* x, const void* mean, const void* var, const void* weight, double eps,
                         void* dx, void* dweight, void* dbias) {
  const std::size_t bytes = static_cast<std::size_t>(2 * c) * sizeof(double);
  double* sums = static_cast<double*>(device_memory::allocate(bytes, Device::cuda()));
  if (dtype == DType::f32)
    backward_typed(n, c, s, static_cast<const float*>(g), static_cast<const float*>(x),
                   static_cast<const float*>(mean), static_cast<const float*>(var),
                   static_cast<const float*>(weight), eps, static_cast<float*>(dx),
                   static_cast<float*>(dweight), static_cast<float*>(dbias), sums);
  else
    backward_typed(n, c, s, static_cast<const double*>(g), static_cast<const double*>(x),
                   static_cast<const double*>(mean), static_cast<const double*>(var),
                   static_cast<const double*>(weight), eps, static_cast<double*>(dx),
                   static_cast<double*>(dweight), static_cast<double*>(dbias), sums);
  // Freed to the cache: its next use is queued after these kernels on the same stream.
  device_memory::deallocate(sums, bytes, Device::cuda());
}

}  // namespace dphys::device_kernel
