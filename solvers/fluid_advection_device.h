#pragma once
// The fused advection kernel on a device (solvers/cuda/fluid_advection.cu): the stages of
// fluid_advection_point.h with one thread per sample point, the adjoint's scatters as atomic adds. Plain
// types only, for nvcc; fluid_advection_kernel.cpp allocates the scratch and checks the flag.
#include <cstdint>

#include "engine/device_kernels.h"
#include "engine/dtype.h"
#include "solvers/fluid_advection_point.h"

namespace dphys::device_kernel {

struct AdvectionGeometry {
  advection_point::FieldLayout field, x_faces, y_faces;
  double dt = 0;
  bool rk2 = false, mac_cormack = false;
  std::int64_t batch = 0;
};

// Scratch on the device, f64: v0 [batch, 2n], sl [batch, n]. A traced position that is not finite fails
// `check`.
void advect(DType dtype, const AdvectionGeometry& geometry, const void* q, const void* vx, const void* vy,
            double* v0, double* sl, void* out, KernelCheck check);
// The *_bar arrays are zeroed f64 device arrays: v0_bar [batch, 2n], sl_bar, q_bar [batch, n], vx_bar and
// vy_bar the velocity faces' shapes.
void advect_adjoint(DType dtype, const AdvectionGeometry& geometry, const void* g, const void* q,
                    const void* vx, const void* vy, double* v0, double* sl, double* v0_bar, double* sl_bar,
                    double* q_bar, double* vx_bar, double* vy_bar, KernelCheck check);

}  // namespace dphys::device_kernel
