// The fused advection kernel on a device: each stage of fluid_advection_point.h over every (example, point),
// one launch per stage so that a stage sees the previous one complete.
#include "engine/cuda/launch.h"
#include "solvers/fluid_advection_device.h"

namespace dphys::device_kernel {

namespace {

using advection_point::Example;

template <class T>
DPHYS_HOST_DEVICE Example<T> example_of(const AdvectionGeometry& g, const T* q, const T* vx, const T* vy,
                                        std::int64_t b) {
  return Example<T>{g.field,
                    g.x_faces,
                    g.y_faces,
                    q + b * g.field.size(),
                    vx + b * g.x_faces.size(),
                    vy + b * g.y_faces.size(),
                    g.dt,
                    g.rk2};
}

// Every point's velocity sample and semi-Lagrangian value.
template <class T>
void semi_lagrangian_stage(const AdvectionGeometry& g, const T* q, const T* vx, const T* vy, double* v0,
                           double* sl, KernelCheck check) {
  const std::int64_t n = g.field.size();
  for_each("advect (semi-Lagrangian)", g.batch * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / n, k = idx % n;
    if (!example_of(g, q, vx, vy, b).semi_lagrangian(k, v0 + 2 * n * b, sl[idx])) check.fail();
  });
}

template <class T>
void advect_typed(const AdvectionGeometry& g, const T* q, const T* vx, const T* vy, double* v0, double* sl,
                  T* out, KernelCheck check) {
  const std::int64_t n = g.field.size();
  semi_lagrangian_stage(g, q, vx, vy, v0, sl, check);
  const bool mac_cormack = g.mac_cormack;
  for_each("advect (MacCormack)", g.batch * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / n, k = idx % n;
    double result = sl[idx];
    if (mac_cormack && !example_of(g, q, vx, vy, b).mac_cormack(k, v0 + 2 * n * b, sl + n * b, result))
      check.fail();
    out[idx] = static_cast<T>(result);
  });
}

template <class T>
void advect_adjoint_typed(const AdvectionGeometry& g, const T* cotangent, const T* q, const T* vx,
                          const T* vy, double* v0, double* sl, double* v0_bar, double* sl_bar, double* q_bar,
                          double* vx_bar, double* vy_bar, KernelCheck check) {
  const std::int64_t n = g.field.size(), nxf = g.x_faces.size(), nyf = g.y_faces.size();
  semi_lagrangian_stage(g, q, vx, vy, v0, sl, check);
  if (g.mac_cormack) {
    for_each("advect_adjoint (MacCormack)", g.batch * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
      const std::int64_t b = idx / n, k = idx % n;
      if (!example_of(g, q, vx, vy, b)
               .mac_cormack_adjoint(k, v0 + 2 * n * b, sl + n * b, cotangent + n * b, q_bar + n * b,
                                    sl_bar + n * b, v0_bar + 2 * n * b, vx_bar + nxf * b, vy_bar + nyf * b,
                                    AtomicAdd()))
        check.fail();
    });
  } else {
    for_each("advect_adjoint", g.batch * n,
             [=] DPHYS_HOST_DEVICE(std::int64_t idx) { sl_bar[idx] = static_cast<double>(cotangent[idx]); });
  }
  for_each("advect_adjoint (semi-Lagrangian)", g.batch * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / n, k = idx % n;
    if (!example_of(g, q, vx, vy, b)
             .semi_lagrangian_adjoint(k, v0 + 2 * n * b, sl_bar[idx], q_bar + n * b, v0_bar + 2 * n * b,
                                      vx_bar + nxf * b, vy_bar + nyf * b, AtomicAdd()))
      check.fail();
  });
  for_each("advect_adjoint (velocity samples)", g.batch * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / n, k = idx % n;
    example_of(g, q, vx, vy, b)
        .velocity_sample_adjoint(k, v0_bar + 2 * n * b, vx_bar + nxf * b, vy_bar + nyf * b, AtomicAdd());
  });
}

}  // namespace

void advect(DType dtype, const AdvectionGeometry& geometry, const void* q, const void* vx, const void* vy,
            double* v0, double* sl, void* out, KernelCheck check) {
  if (dtype == DType::f32)
    return advect_typed(geometry, static_cast<const float*>(q), static_cast<const float*>(vx),
                        static_cast<const float*>(vy), v0, sl, static_cast<float*>(out), check);
  advect_typed(geometry, static_cast<const double*>(q), static_cast<const double*>(vx),
               static_cast<const double*>(vy), v0, sl, static_cast<double*>(out), check);
}

void advect_adjoint(DType dtype, const AdvectionGeometry& geometry, const void* g, const void* q,
                    const void* vx, const void* vy, double* v0, double* sl, double* v0_bar, double* sl_bar,
                    double* q_bar, double* vx_bar, double* vy_bar, KernelCheck check) {
  if (dtype == DType::f32)
    return advect_adjoint_typed(geometry, static_cast<const float*>(g), static_cast<const float*>(q),
                                static_cast<const float*>(vx), static_cast<const float*>(vy), v0, sl, v0_bar,
                                sl_bar, q_bar, vx_bar, vy_bar, check);
  advect_adjoint_typed(geometry, static_cast<const double*>(g), static_cast<const double*>(q),
                       static_cast<const double*>(vx), static_cast<const double*>(vy), v0, sl, v0_bar, sl_bar,
                       q_bar, vx_bar, vy_bar, check);
}

}  // namespace dphys::device_kernel
