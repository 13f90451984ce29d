// Device kernels of engine/cg_kernels.cpp: the fused CG vector updates, with per-example sums in f64.
#include "engine/cuda/segment_reduce.h"
#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void batched_dot_typed(std::int64_t batch, std::int64_t per_example, const T* a, const T* b, double* sums) {
  segment_sums(
      "batched_dot", batch, per_example,
      [=] DPHYS_HOST_DEVICE(std::int64_t s, std::int64_t k) {
        const std::int64_t i = s * per_example + k;
        return static_cast<double>(a[i]) * static_cast<double>(b[i]);
      },
      sums);
}

template <class T>
void cg_update_typed(std::int64_t batch, std::int64_t per_example, T* x, T* r, T* z, const T* p, const T* ap,
                     const double* alpha, const T* d, double* sums) {
  segment_sums(
      "cg_update", batch, per_example,
      [=] DPHYS_HOST_DEVICE(std::int64_t s, std::int64_t k) {
        const std::int64_t i = s * per_example + k;
        const T a = static_cast<T>(alpha[s]);
        x[i] += a * p[i];
        const T ri = r[i] - a * ap[i];
        const T zi = d ? ri / d[i] : ri;
        r[i] = ri;
        z[i] = zi;
        return static_cast<double>(ri) * static_cast<double>(zi);
      },
      sums);
}

template <class T>
void cg_direction_typed(std::int64_t batch, std::int64_t per_example, T* p, const T* z, const double* beta) {
  for_each("cg_direction", batch * per_example, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    p[i] = z[i] + static_cast<T>(beta[i / per_example]) * p[i];
  });
}

}  // namespace

void batched_dot(DType dtype, std::int64_t batch, std::int64_t per_example, const void* a, const void* b,
                 double* sums) {
  if (dtype == DType::f32)
    return batched_dot_typed(batch, per_example, static_cast<const float*>(a), static_cast<const float*>(b),
                             sums);
  batched_dot_typed(batch, per_example, static_cast<const double*>(a), static_cast<const double*>(b), sums);
}

void cg_update(DType dtype, std::int64_t batch, std::int64_t per_example, void* x, void* r, void* z,
               const void* p, const void* ap, const double* alpha, const void* d, double* sums) {
  if (dtype == DType::f32)
    return cg_update_typed(batch, per_example, static_cast<float*>(x), static_cast<float*>(r),
                           static_cast<float*>(z), static_cast<const float*>(p),
                           static_cast<const float*>(ap), alpha, static_cast<const float*>(d), sums);
  cg_update_typed(batch, per_example, static_cast<double*>(x), static_cast<double*>(r),
                  static_cast<double*>(z), static_cast<const double*>(p), static_cast<const double*>(ap),
                  alpha, static_cast<const double*>(d), sums);
}

void cg_direction(DType dtype, std::int64_t batch, std::int64_t per_example, void* p, const void* z,
                  const double* beta) {
  if (dtype == DType::f32)
    return cg_direction_typed(batch, per_example, static_cast<float*>(p), static_cast<const float*>(z), beta);
  cg_direction_typed(batch, per_example, static_cast<double*>(p), static_cast<const double*>(z), beta);
}

}  // namespace dphys::device_kernel
