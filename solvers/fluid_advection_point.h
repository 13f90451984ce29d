#pragma once
// The per-point stages of the fused advection kernel (fluid_advection_kernel.h), shared by its CPU loops and
// its device kernels (solvers/cuda/fluid_advection.cu), so that both compute the same numbers:
//   forward:  semi_lagrangian (velocity at the point, trace back, sample q), then mac_cormack (trace forward,
//             sample the semi-Lagrangian field, correct, limit);
//   adjoint:  mac_cormack_adjoint, semi_lagrangian_adjoint, velocity_sample_adjoint, in that order, each
//             stage finished for every point before the next starts.
// Adjoint stages scatter into neighbours through `add(address, value)`: a plain += on the CPU, an atomic add
// on a GPU. Positions, weights and accumulators are f64 whatever the fields' dtype.
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::advection_point {

// One axis of a field's samples: n of them, `spacing` apart, the first at `origin`.
struct Axis {
  double origin = 0, spacing = 1;
  std::int64_t n = 1;
  bool periodic = false;
};

// A point located among a field's samples: its four neighbours (flat indices), the weights ty, tx of the
// upper ones, and d ty/dy, d tx/dx (zero where the position is clamped to the field's edge).
struct Located {
  std::int64_t i00 = 0, i01 = 0, i10 = 0, i11 = 0;
  double ty = 0, tx = 0, dty = 0, dtx = 0;
};

// The lower neighbour of continuous index f, the upper one, the upper's weight and its slope d t/d f, as
// fluid_sampling.cpp's linear_stencil defines them. False for positions no double resolves within a cell.
DPHYS_HOST_DEVICE inline bool locate_axis(const Axis& axis, double position, std::int64_t& lower,
                                          std::int64_t& upper, double& t, double& slope) {
  const double f = (position - axis.origin) / axis.spacing;
  if (!(std::fabs(f) < 0x1p52)) return false;
  if (axis.periodic) {
    const double floor = std::floor(f);
    const auto k = static_cast<std::int64_t>(floor);
    lower = (k >= 0 && k < axis.n) ? k : ((k % axis.n) + axis.n) % axis.n;
    upper = lower + 1 == axis.n ? 0 : lower + 1;
    t = f - floor;
    slope = 1.0 / axis.spacing;
    return true;
  }
  const double last = static_cast<double>(axis.n - 1);
  const double clamped = f < 0.0 ? 0.0 : (last < f ? last : f);
  const std::int64_t floor = static_cast<std::int64_t>(std::floor(clamped));
  const std::int64_t highest_lower = axis.n - 2 > 0 ? axis.n - 2 : 0;
  lower = highest_lower < floor ? highest_lower : floor;
  upper = lower + 1 < axis.n - 1 ? lower + 1 : axis.n - 1;
  t = clamped - static_cast<double>(lower);
  // clamp's derivative as the op-by-op version takes it: 1 on the closed interval.
  slope = (f >= 0.0 && f <= last) ? 1.0 / axis.spacing : 0.0;
  return true;
}

// The sample layout of one staggered field.
struct FieldLayout {
  Axis y, x;
  DPHYS_HOST_DEVICE std::int64_t size() const { return y.n * x.n; }

  DPHYS_HOST_DEVICE bool locate(double py, double px, Located& at) const {
    std::int64_t y0, y1, x0, x1;
    if (!locate_axis(y, py, y0, y1, at.ty, at.dty) || !locate_axis(x, px, x0, x1, at.tx, at.dtx))
      return false;
    at.i00 = y0 * x.n + x0;
    at.i01 = y0 * x.n + x1;
    at.i10 = y1 * x.n + x0;
    at.i11 = y1 * x.n + x1;
    return true;
  }
};

template <class T>
DPHYS_HOST_DEVICE double value(const T* f, const Located& at) {
  const double c00 = f[at.i00], c01 = f[at.i01], c10 = f[at.i10], c11 = f[at.i11];
  const double low = c00 + at.tx * (c01 - c00), high = c10 + at.tx * (c11 - c10);
  return low + at.ty * (high - low);
}

// ∂value/∂y and ∂value/∂x at the located point.
template <class T>
DPHYS_HOST_DEVICE void slope(const T* f, const Located& at, double& along_y, double& along_x) {
  const double c00 = f[at.i00], c01 = f[at.i01], c10 = f[at.i10], c11 = f[at.i11];
  const double low = c00 + at.tx * (c01 - c00), high = c10 + at.tx * (c11 - c10);
  along_y = (high - low) * at.dty;
  along_x = ((1 - at.ty) * (c01 - c00) + at.ty * (c11 - c10)) * at.dtx;
}

// The transpose of value(): g spread over the four neighbours.
template <class Add>
DPHYS_HOST_DEVICE void splat(double* f_bar, const Located& at, double g, Add add) {
  const double low = g * (1 - at.ty), high = g * at.ty;
  add(f_bar + at.i00, low * (1 - at.tx));
  add(f_bar + at.i01, low * at.tx);
  add(f_bar + at.i10, high * (1 - at.tx));
  add(f_bar + at.i11, high * at.tx);
}

// The neighbours MacCormack clamps to from below and above; on ties, the ones that minimum(minimum(c00, c01),
// minimum(c10, c11)) and its maximum counterpart pick.
template <class T>
DPHYS_HOST_DEVICE void range_neighbours(const T* f, const Located& at, std::int64_t& low,
                                        std::int64_t& high) {
  const std::int64_t low01 = f[at.i00] <= f[at.i01] ? at.i00 : at.i01;
  const std::int64_t low23 = f[at.i10] <= f[at.i11] ? at.i10 : at.i11;
  const std::int64_t high01 = f[at.i00] >= f[at.i01] ? at.i00 : at.i01;
  const std::int64_t high23 = f[at.i10] >= f[at.i11] ? at.i10 : at.i11;
  low = f[low01] <= f[low23] ? low01 : low23;
  high = f[high01] >= f[high23] ? high01 : high23;
}

// One example's fields: q advected by (vx, vy) over dt. Point k = i·nx + j of the advected field; v0 holds
// (vy, vx) sampled at each point, two entries per point; the *_bar arrays are this example's cotangents.
template <class T>
struct Example {
  FieldLayout field, x_faces, y_faces;
  const T *q, *vx, *vy;
  double dt;
  bool rk2;

  DPHYS_HOST_DEVICE double point_y(std::int64_t k) const {
    return field.y.origin + static_cast<double>(k / field.x.n) * field.y.spacing;
  }
  DPHYS_HOST_DEVICE double point_x(std::int64_t k) const {
    return field.x.origin + static_cast<double>(k % field.x.n) * field.x.spacing;
  }

  DPHYS_HOST_DEVICE bool velocity(double py, double px, double& at_vy, double& at_vx) const {
    Located at_y, at_x;
    if (!y_faces.locate(py, px, at_y) || !x_faces.locate(py, px, at_x)) return false;
    at_vy = value(vy, at_y);
    at_vx = value(vx, at_x);
    return true;
  }

  // Where the particle at point k is after `time` (negative: where it came from), from its velocity v0.
  DPHYS_HOST_DEVICE bool trace(std::int64_t k, const double* v0, double time, double& ty, double& tx) const {
    const double py = point_y(k), px = point_x(k);
    double ry = v0[2 * k], rx = v0[2 * k + 1];
    if (rk2 && !velocity(py + 0.5 * time * ry, px + 0.5 * time * rx, ry, rx)) return false;
    ty = py + time * ry;
    tx = px + time * rx;
    return true;
  }

  DPHYS_HOST_DEVICE bool locate_trace(std::int64_t k, const double* v0, double time, Located& at) const {
    double ty, tx;
    return trace(k, v0, time, ty, tx) && field.locate(ty, tx, at);
  }

  // Given the cotangent (ty_bar, tx_bar) of trace(k, v0, time), accumulates that of v0 at k and, for RK2,
  // of the velocity fields sampled at the midpoint.
  template <class Add>
  DPHYS_HOST_DEVICE void trace_adjoint(std::int64_t k, const double* v0, double time, double ty_bar,
                                       double tx_bar, double* v0_bar, double* vx_bar, double* vy_bar,
                                       Add add) const {
    if (!rk2) {
      add(v0_bar + 2 * k, time * ty_bar);
      add(v0_bar + 2 * k + 1, time * tx_bar);
      return;
    }
    const double my = point_y(k) + 0.5 * time * v0[2 * k], mx = point_x(k) + 0.5 * time * v0[2 * k + 1];
    Located at_y, at_x;
    y_faces.locate(my, mx, at_y);
    x_faces.locate(my, mx, at_x);
    const double mid_vy_bar = time * ty_bar, mid_vx_bar = time * tx_bar;
    splat(vy_bar, at_y, mid_vy_bar, add);
    splat(vx_bar, at_x, mid_vx_bar, add);
    double vy_dy, vy_dx, vx_dy, vx_dx;
    slope(vy, at_y, vy_dy, vy_dx);
    slope(vx, at_x, vx_dy, vx_dx);
    add(v0_bar + 2 * k, 0.5 * time * (mid_vy_bar * vy_dy + mid_vx_bar * vx_dy));
    add(v0_bar + 2 * k + 1, 0.5 * time * (mid_vy_bar * vy_dx + mid_vx_bar * vx_dx));
  }

  // Samples the velocity at point k into v0 and returns the semi-Lagrangian value there. False on a
  // non-finite position (a velocity that blew up).
  DPHYS_HOST_DEVICE bool semi_lagrangian(std::int64_t k, double* v0, double& result) const {
    if (!velocity(point_y(k), point_x(k), v0[2 * k], v0[2 * k + 1])) return false;
    Located back;
    if (!locate_trace(k, v0, -dt, back)) return false;
    result = value(q, back);
    return true;
  }

  // The MacCormack value at point k from the semi-Lagrangian field sl (after every point's semi_lagrangian).
  DPHYS_HOST_DEVICE bool mac_cormack(std::int64_t k, const double* v0, const double* sl,
                                     double& result) const {
    Located back, ahead;
    if (!locate_trace(k, v0, -dt, back) || !locate_trace(k, v0, dt, ahead)) return false;
    const double corrected = sl[k] + 0.5 * (q[k] - value(sl, ahead));
    std::int64_t low, high;
    range_neighbours(q, back, low, high);
    // std::min(std::max(corrected, q[low]), q[high]), NaN handling included.
    const double floor = q[low], ceiling = q[high];
    const double raised = corrected < floor ? floor : corrected;
    result = ceiling < raised ? ceiling : raised;
    return true;
  }

  // Point k's share of MacCormack's adjoint for output cotangent g: into q_bar, the semi-Lagrangian field's
  // cotangent sl_bar, v0_bar and the velocity cotangents.
  template <class Add>
  DPHYS_HOST_DEVICE bool mac_cormack_adjoint(std::int64_t k, const double* v0, const double* sl, const T* g,
                                             double* q_bar, double* sl_bar, double* v0_bar, double* vx_bar,
                                             double* vy_bar, Add add) const {
    Located back, ahead;
    if (!locate_trace(k, v0, -dt, back) || !locate_trace(k, v0, dt, ahead)) return false;
    const double round_trip = value(sl, ahead);
    const double corrected = sl[k] + 0.5 * (q[k] - round_trip);
    std::int64_t low, high;
    range_neighbours(q, back, low, high);
    // out = minimum(maximum(corrected, q[low]), q[high]), differentiated as the ops do.
    const double raised = corrected >= q[low] ? corrected : static_cast<double>(q[low]);
    double corrected_bar = 0;
    if (!(raised <= q[high])) {
      add(q_bar + high, static_cast<double>(g[k]));
    } else if (corrected >= q[low]) {
      corrected_bar = g[k];
    } else {
      add(q_bar + low, static_cast<double>(g[k]));
    }
    add(sl_bar + k, corrected_bar);
    add(q_bar + k, 0.5 * corrected_bar);
    const double round_trip_bar = -0.5 * corrected_bar;
    if (round_trip_bar == 0) return true;
    splat(sl_bar, ahead, round_trip_bar, add);
    double sy, sx;
    slope(sl, ahead, sy, sx);
    trace_adjoint(k, v0, dt, round_trip_bar * sy, round_trip_bar * sx, v0_bar, vx_bar, vy_bar, add);
    return true;
  }

  // Point k's share of the semi-Lagrangian step's adjoint, given its cotangent `bar`.
  template <class Add>
  DPHYS_HOST_DEVICE bool semi_lagrangian_adjoint(std::int64_t k, const double* v0, double bar, double* q_bar,
                                                 double* v0_bar, double* vx_bar, double* vy_bar,
                                                 Add add) const {
    if (bar == 0) return true;
    Located back;
    if (!locate_trace(k, v0, -dt, back)) return false;
    splat(q_bar, back, bar, add);
    double sy, sx;
    slope(q, back, sy, sx);
    trace_adjoint(k, v0, -dt, bar * sy, bar * sx, v0_bar, vx_bar, vy_bar, add);
    return true;
  }

  // v0 = (vy, vx) sampled at point k: its cotangent goes to the velocity fields.
  template <class Add>
  DPHYS_HOST_DEVICE void velocity_sample_adjoint(std::int64_t k, const double* v0_bar, double* vx_bar,
                                                 double* vy_bar, Add add) const {
    Located at_y, at_x;
    y_faces.locate(point_y(k), point_x(k), at_y);
    x_faces.locate(point_y(k), point_x(k), at_x);
    splat(vy_bar, at_y, v0_bar[2 * k], add);
    splat(vx_bar, at_x, v0_bar[2 * k + 1], add);
  }
};

}  // namespace dphys::advection_point
