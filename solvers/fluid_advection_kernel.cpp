#include "solvers/fluid_advection_kernel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/device_memory.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/parallel.h"
#include "solvers/fluid_advection_device.h"

namespace dphys::kernel {

namespace {

using advection_point::Axis;
using advection_point::FieldLayout;

// The sample layout of one staggered field.
FieldLayout layout_of(const Grid2D& grid, Staggering staggering) {
  const Shape shape = staggered_shape(grid, staggering, 1);
  const auto [oy, ox] = sample_origin(grid, staggering);
  return {Axis{oy, grid.dy(), shape[1], grid.periodic()}, Axis{ox, grid.dx(), shape[2], grid.periodic()}};
}

// The fields' layouts and the step, for example b of the batch.
template <class T>
advection_point::Example<T> example(const Grid2D& grid, Staggering staggering, const T* q, const T* vx,
                                    const T* vy, std::int64_t b, double dt, const AdvectionOptions& options) {
  advection_point::Example<T> e{layout_of(grid, staggering),
                                layout_of(grid, Staggering::x_faces),
                                layout_of(grid, Staggering::y_faces),
                                q,
                                vx,
                                vy,
                                dt,
                                options.trace == BackTrace::rk2};
  e.q += b * e.field.size();
  e.vx += b * e.x_faces.size();
  e.vy += b * e.y_faces.size();
  return e;
}

// The CPU scatters: one example per thread, so a plain add.
const auto plain_add = [](double* address, double value) { *address += value; };

// Runs example e's forward stages; v0 and sl are scratch of 2n and n entries. False if a trace blew up.
template <class T>
bool advect_example(const advection_point::Example<T>& e, bool mac_cormack, double* v0, double* sl, T* out) {
  const std::int64_t n = e.field.size();
  for (std::int64_t k = 0; k < n; ++k)
    if (!e.semi_lagrangian(k, v0, sl[k])) return false;
  for (std::int64_t k = 0; k < n; ++k) {
    double result = sl[k];
    if (mac_cormack && !e.mac_cormack(k, v0, sl, result)) return false;
    out[k] = static_cast<T>(result);
  }
  return true;
}

// Accumulates example e's cotangents of q, vx and vy for output cotangent g.
template <class T>
bool advect_adjoint_example(const advection_point::Example<T>& e, bool mac_cormack, const T* g, double* q_bar,
                            double* vx_bar, double* vy_bar) {
  const std::int64_t n = e.field.size();
  std::vector<double> v0(2 * n), sl(n), v0_bar(2 * n, 0.0), sl_bar(n, 0.0);
  for (std::int64_t k = 0; k < n; ++k)
    if (!e.semi_lagrangian(k, v0.data(), sl[k])) return false;
  if (mac_cormack) {
    // MacCormack accumulates a point's own share and the round-trip splats of its neighbours.
    for (std::int64_t k = 0; k < n; ++k)
      if (!e.mac_cormack_adjoint(k, v0.data(), sl.data(), g, q_bar, sl_bar.data(), v0_bar.data(), vx_bar,
                                 vy_bar, plain_add))
        return false;
  } else {
    for (std::int64_t k = 0; k < n; ++k) sl_bar[k] = g[k];
  }
  for (std::int64_t k = 0; k < n; ++k)
    if (!e.semi_lagrangian_adjoint(k, v0.data(), sl_bar[k], q_bar, v0_bar.data(), vx_bar, vy_bar, plain_add))
      return false;
  for (std::int64_t k = 0; k < n; ++k) e.velocity_sample_adjoint(k, v0_bar.data(), vx_bar, vy_bar, plain_add);
  return true;
}

std::string blown_up_message(const Tensor& q) {
  return fmt::format(
      "advect: a traced sample position is NaN, Inf or more than 2^52 cells away (field {}); did the "
      "velocity blow up?",
      shape_str(q.shape()));
}

void raise_blown_up(const Tensor& q) { fail("{}", blown_up_message(q)); }

// On a device the check does not wait: a blown-up trace raises at the next read from the device.
KernelCheck blown_up_check(const Tensor& q) {
  return device_memory::deferred_check(q.device(), blown_up_message(q));
}

device_kernel::AdvectionGeometry device_geometry(const Tensor& q, Staggering staggering,
                                                 const StaggeredField& velocity, const Grid2D& grid,
                                                 double dt, const AdvectionOptions& options) {
  check_device_dtype("advect", q);
  check_same_device("advect", q, velocity.x_faces);
  check_same_device("advect", q, velocity.y_faces);
  return {layout_of(grid, staggering),
          layout_of(grid, Staggering::x_faces),
          layout_of(grid, Staggering::y_faces),
          dt,
          options.trace == BackTrace::rk2,
          options.scheme == AdvectionScheme::mac_cormack,
          q.shape()[0]};
}

void advect_on_device(const Tensor& q, Staggering staggering, const StaggeredField& velocity,
                      const Grid2D& grid, double dt, const AdvectionOptions& options, const Tensor& out) {
  const auto geometry = device_geometry(q, staggering, velocity, grid, dt, options);
  const Tensor v0 = Tensor::empty({2 * q.numel()}, DType::f64, q.device());
  const Tensor sl = Tensor::empty({q.numel()}, DType::f64, q.device());
  device_kernel::advect(q.dtype(), geometry, device_address(q), device_address(velocity.x_faces),
                        device_address(velocity.y_faces), device_data<double>(v0), device_data<double>(sl),
                        device_address(out), blown_up_check(q));
}

void advect_adjoint_on_device(const Tensor& cotangent, const Tensor& q, Staggering staggering,
                              const StaggeredField& velocity, const Grid2D& grid, double dt,
                              const AdvectionOptions& options, const std::array<Tensor, 3>& bars) {
  const auto geometry = device_geometry(q, staggering, velocity, grid, dt, options);
  check_same_device("advect_adjoint", q, cotangent);
  const Tensor v0 = Tensor::empty({2 * q.numel()}, DType::f64, q.device());
  const Tensor sl = Tensor::empty({q.numel()}, DType::f64, q.device());
  const Tensor v0_bar = zeros({2 * q.numel()}, DType::f64, q.device());
  const Tensor sl_bar = zeros({q.numel()}, DType::f64, q.device());
  device_kernel::advect_adjoint(
      q.dtype(), geometry, device_address(cotangent), device_address(q), device_address(velocity.x_faces),
      device_address(velocity.y_faces), device_data<double>(v0), device_data<double>(sl),
      device_data<double>(v0_bar), device_data<double>(sl_bar), device_data<double>(bars[0]),
      device_data<double>(bars[1]), device_data<double>(bars[2]), blown_up_check(q));
}

}  // namespace

Tensor advect(const Tensor& q, Staggering staggering, const StaggeredField& velocity, const Grid2D& grid,
              double dt, const AdvectionOptions& options) {
  const std::int64_t batch = q.shape()[0], n = q.numel() / std::max<std::int64_t>(batch, 1);
  const bool mac_cormack = options.scheme == AdvectionScheme::mac_cormack;
  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  if (!q.device().is_cpu()) {
    advect_on_device(q, staggering, velocity, grid, dt, options, out);
    return out;
  }
  std::vector<char> ok(batch, 1);
  dispatch_real(q.dtype(), "advect", [&](auto zero) {
    using T = decltype(zero);
    const T *qd = q.data<T>(), *vx = velocity.x_faces.data<T>(), *vy = velocity.y_faces.data<T>();
    T* o = out.data<T>();
    parallel_for(batch, n * 60, [&](std::int64_t b) {
      std::vector<double> v0(2 * n), sl(n);
      ok[b] = advect_example(example(grid, staggering, qd, vx, vy, b, dt, options), mac_cormack, v0.data(),
                             sl.data(), o + b * n);
    });
  });
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) raise_blown_up(q);
  return out;
}

std::array<Tensor, 3> advect_adjoint(const Tensor& g, const Tensor& q, Staggering staggering,
                                     const StaggeredField& velocity, const Grid2D& grid, double dt,
                                     const AdvectionOptions& options) {
  const std::int64_t batch = q.shape()[0], n = q.numel() / std::max<std::int64_t>(batch, 1);
  const std::int64_t nx_faces = velocity.x_faces.numel() / std::max<std::int64_t>(batch, 1);
  const std::int64_t ny_faces = velocity.y_faces.numel() / std::max<std::int64_t>(batch, 1);
  const bool mac_cormack = options.scheme == AdvectionScheme::mac_cormack;
  std::array<Tensor, 3> bars{zeros(q.shape(), DType::f64, q.device()),
                             zeros(velocity.x_faces.shape(), DType::f64, q.device()),
                             zeros(velocity.y_faces.shape(), DType::f64, q.device())};
  const Tensor cotangent = cast(g, q.dtype());
  if (!q.device().is_cpu()) {
    advect_adjoint_on_device(cotangent, q, staggering, velocity, grid, dt, options, bars);
  } else {
    std::vector<char> ok(batch, 1);
    dispatch_real(q.dtype(), "advect_adjoint", [&](auto zero) {
      using T = decltype(zero);
      const T *gd = cotangent.data<T>(), *qd = q.data<T>(), *vx = velocity.x_faces.data<T>(),
              *vy = velocity.y_faces.data<T>();
      double *q_bar = bars[0].data<double>(), *vx_bar = bars[1].data<double>(),
             *vy_bar = bars[2].data<double>();
      parallel_for(batch, n * 150, [&](std::int64_t b) {
        ok[b] =
            advect_adjoint_example(example(grid, staggering, qd, vx, vy, b, dt, options), mac_cormack,
                                   gd + b * n, q_bar + b * n, vx_bar + b * nx_faces, vy_bar + b * ny_faces);
      });
    });
    if (std::find(ok.begin(), ok.end(), 0) != ok.end()) raise_blown_up(q);
  }
  for (Tensor& bar : bars) bar = cast(bar, q.dtype());
  return bars;
}

}  // namespace dphys::kernel
