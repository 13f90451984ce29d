#include "solvers/fluid_advection_kernel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/creation.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

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
bool locate_axis(const Axis& axis, double position, std::int64_t& lower, std::int64_t& upper, double& t,
                 double& slope) {
  const double f = (position - axis.origin) / axis.spacing;
  if (!(std::abs(f) < 0x1p52)) return false;
  if (axis.periodic) {
    const double floor = std::floor(f);
    const auto k = static_cast<std::int64_t>(floor);
    lower = (k >= 0 && k < axis.n) ? k : ((k % axis.n) + axis.n) % axis.n;
    upper = lower + 1 == axis.n ? 0 : lower + 1;
    t = f - floor;
    slope = 1.0 / axis.spacing;
    return true;
  }
  const double last = static_cast<double>(axis.n - 1), clamped = std::clamp(f, 0.0, last);
  lower = std::min(static_cast<std::int64_t>(std::floor(clamped)), std::max<std::int64_t>(axis.n - 2, 0));
  upper = std::min(lower + 1, axis.n - 1);
  t = clamped - static_cast<double>(lower);
  // clamp's derivative as the op-by-op version takes it: 1 on the closed interval.
  slope = (f >= 0.0 && f <= last) ? 1.0 / axis.spacing : 0.0;
  return true;
}

// The sample layout of one staggered field.
struct Layout {
  Axis y, x;
  std::int64_t size() const { return y.n * x.n; }

  Layout(const Grid2D& grid, Staggering staggering) {
    const Shape shape = staggered_shape(grid, staggering, 1);
    const auto [oy, ox] = sample_origin(grid, staggering);
    y = {oy, grid.dy(), shape[1], grid.periodic()};
    x = {ox, grid.dx(), shape[2], grid.periodic()};
  }

  bool locate(double py, double px, Located& at) const {
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
double value(const T* f, const Located& at) {
  const double c00 = f[at.i00], c01 = f[at.i01], c10 = f[at.i10], c11 = f[at.i11];
  const double low = c00 + at.tx * (c01 - c00), high = c10 + at.tx * (c11 - c10);
  return low + at.ty * (high - low);
}

// ∂value/∂y and ∂value/∂x at the located point.
template <class T>
std::pair<double, double> slope(const T* f, const Located& at) {
  const double c00 = f[at.i00], c01 = f[at.i01], c10 = f[at.i10], c11 = f[at.i11];
  const double low = c00 + at.tx * (c01 - c00), high = c10 + at.tx * (c11 - c10);
  const double along_x = (1 - at.ty) * (c01 - c00) + at.ty * (c11 - c10);
  return {(high - low) * at.dty, along_x * at.dtx};
}

// The transpose of value(): g spread over the four neighbours.
void splat(double* f_bar, const Located& at, double g) {
  const double low = g * (1 - at.ty), high = g * at.ty;
  f_bar[at.i00] += low * (1 - at.tx);
  f_bar[at.i01] += low * at.tx;
  f_bar[at.i10] += high * (1 - at.tx);
  f_bar[at.i11] += high * at.tx;
}

// The neighbours MacCormack clamps to from below and above; on ties, the ones that minimum(minimum(c00, c01),
// minimum(c10, c11)) and its maximum counterpart pick.
template <class T>
std::pair<std::int64_t, std::int64_t> range_neighbours(const T* f, const Located& at) {
  const std::int64_t low01 = f[at.i00] <= f[at.i01] ? at.i00 : at.i01;
  const std::int64_t low23 = f[at.i10] <= f[at.i11] ? at.i10 : at.i11;
  const std::int64_t high01 = f[at.i00] >= f[at.i01] ? at.i00 : at.i01;
  const std::int64_t high23 = f[at.i10] >= f[at.i11] ? at.i10 : at.i11;
  return {f[low01] <= f[low23] ? low01 : low23, f[high01] >= f[high23] ? high01 : high23};
}

// One example: the field q advected by velocity (vx, vy), all three of its own example.
template <class T>
class Advection {
 public:
  Advection(const Layout& field, const Layout& x_faces, const Layout& y_faces, const T* q, const T* vx,
            const T* vy, double dt, const AdvectionOptions& options)
      : field_(field),
        x_faces_(x_faces),
        y_faces_(y_faces),
        q_(q),
        vx_(vx),
        vy_(vy),
        dt_(dt),
        options_(options),
        v0_(2 * field.size()),
        semi_lagrangian_(field.size()) {}

  // Samples the velocity at every point and takes the semi-Lagrangian step. False on a non-finite
  // position (a velocity that blew up).
  bool semi_lagrangian_step() {
    for (std::int64_t i = 0; i < field_.y.n; ++i) {
      for (std::int64_t j = 0; j < field_.x.n; ++j) {
        const std::int64_t k = i * field_.x.n + j;
        const double py = point_y(i), px = point_x(j);
        if (!velocity(py, px, v0_[2 * k], v0_[2 * k + 1])) return false;
        double by, bx;
        Located back;
        if (!trace(py, px, k, -dt_, by, bx) || !field_.locate(by, bx, back)) return false;
        semi_lagrangian_[k] = value(q_, back);
      }
    }
    return true;
  }

  // Writes the result (after semi_lagrangian_step).
  bool write(T* out) const {
    const std::int64_t n = field_.size();
    if (options_.scheme == AdvectionScheme::semi_lagrangian) {
      for (std::int64_t k = 0; k < n; ++k) out[k] = static_cast<T>(semi_lagrangian_[k]);
      return true;
    }
    for (std::int64_t i = 0; i < field_.y.n; ++i) {
      for (std::int64_t j = 0; j < field_.x.n; ++j) {
        const std::int64_t k = i * field_.x.n + j;
        Located back, ahead;
        if (!locate_trace(i, j, -dt_, back) || !locate_trace(i, j, dt_, ahead)) return false;
        const double corrected = semi_lagrangian_[k] + 0.5 * (q_[k] - value(semi_lagrangian_.data(), ahead));
        const auto [low, high] = range_neighbours(q_, back);
        out[k] = static_cast<T>(
            std::min(std::max(corrected, static_cast<double>(q_[low])), static_cast<double>(q_[high])));
      }
    }
    return true;
  }

  // Accumulates the cotangents of q, vx and vy for output cotangent g (after semi_lagrangian_step).
  bool adjoint(const T* g, double* q_bar, double* vx_bar, double* vy_bar) {
    const std::int64_t n = field_.size();
    const bool mac_cormack = options_.scheme == AdvectionScheme::mac_cormack;
    // MacCormack accumulates a point's own share and the round-trip splats of its neighbours.
    std::vector<double> v0_bar(2 * n, 0.0),
        semi_lagrangian_bar = mac_cormack ? std::vector<double>(n, 0.0) : std::vector<double>(g, g + n);
    if (mac_cormack) {
      for (std::int64_t i = 0; i < field_.y.n; ++i) {
        for (std::int64_t j = 0; j < field_.x.n; ++j) {
          const std::int64_t k = i * field_.x.n + j;
          Located back, ahead;
          if (!locate_trace(i, j, -dt_, back) || !locate_trace(i, j, dt_, ahead)) return false;
          const double round_trip = value(semi_lagrangian_.data(), ahead);
          const double corrected = semi_lagrangian_[k] + 0.5 * (q_[k] - round_trip);
          const auto [low, high] = range_neighbours(q_, back);
          // out = minimum(maximum(corrected, q[low]), q[high]), differentiated as the ops do.
          const double raised = corrected >= q_[low] ? corrected : static_cast<double>(q_[low]);
          double corrected_bar = 0;
          if (!(raised <= q_[high])) {
            q_bar[high] += g[k];
          } else if (corrected >= q_[low]) {
            corrected_bar = g[k];
          } else {
            q_bar[low] += g[k];
          }
          semi_lagrangian_bar[k] += corrected_bar;
          q_bar[k] += 0.5 * corrected_bar;
          const double round_trip_bar = -0.5 * corrected_bar;
          if (round_trip_bar == 0) continue;
          splat(semi_lagrangian_bar.data(), ahead, round_trip_bar);
          const auto [sy, sx] = slope(semi_lagrangian_.data(), ahead);
          trace_adjoint(point_y(i), point_x(j), k, dt_, round_trip_bar * sy, round_trip_bar * sx, v0_bar,
                        vx_bar, vy_bar);
        }
      }
    }
    for (std::int64_t i = 0; i < field_.y.n; ++i) {
      for (std::int64_t j = 0; j < field_.x.n; ++j) {
        const std::int64_t k = i * field_.x.n + j;
        const double bar = semi_lagrangian_bar[k];
        if (bar == 0) continue;
        Located back;
        if (!locate_trace(i, j, -dt_, back)) return false;
        splat(q_bar, back, bar);
        const auto [sy, sx] = slope(q_, back);
        trace_adjoint(point_y(i), point_x(j), k, -dt_, bar * sy, bar * sx, v0_bar, vx_bar, vy_bar);
      }
    }
    // v0 = (vy, vx) sampled at each point.
    for (std::int64_t i = 0; i < field_.y.n; ++i) {
      for (std::int64_t j = 0; j < field_.x.n; ++j) {
        const std::int64_t k = i * field_.x.n + j;
        Located at_y, at_x;
        y_faces_.locate(point_y(i), point_x(j), at_y);
        x_faces_.locate(point_y(i), point_x(j), at_x);
        splat(vy_bar, at_y, v0_bar[2 * k]);
        splat(vx_bar, at_x, v0_bar[2 * k + 1]);
      }
    }
    return true;
  }

 private:
  double point_y(std::int64_t i) const { return field_.y.origin + static_cast<double>(i) * field_.y.spacing; }
  double point_x(std::int64_t j) const { return field_.x.origin + static_cast<double>(j) * field_.x.spacing; }

  bool velocity(double py, double px, double& vy, double& vx) const {
    Located at_y, at_x;
    if (!y_faces_.locate(py, px, at_y) || !x_faces_.locate(py, px, at_x)) return false;
    vy = value(vy_, at_y);
    vx = value(vx_, at_x);
    return true;
  }

  // Where the particle at point k, (py, px), is after `time` (negative: where it came from).
  bool trace(double py, double px, std::int64_t k, double time, double& ty, double& tx) const {
    double vy = v0_[2 * k], vx = v0_[2 * k + 1];
    if (options_.trace == BackTrace::rk2 && !velocity(py + 0.5 * time * vy, px + 0.5 * time * vx, vy, vx))
      return false;
    ty = py + time * vy;
    tx = px + time * vx;
    return true;
  }

  bool locate_trace(std::int64_t i, std::int64_t j, double time, Located& at) const {
    double ty, tx;
    return trace(point_y(i), point_x(j), i * field_.x.n + j, time, ty, tx) && field_.locate(ty, tx, at);
  }

  // Given the cotangent (ty_bar, tx_bar) of trace(py, px, k, time), accumulates that of v0 at k and, for
  // RK2, of the velocity fields sampled at the midpoint.
  void trace_adjoint(double py, double px, std::int64_t k, double time, double ty_bar, double tx_bar,
                     std::vector<double>& v0_bar, double* vx_bar, double* vy_bar) const {
    if (options_.trace == BackTrace::euler) {
      v0_bar[2 * k] += time * ty_bar;
      v0_bar[2 * k + 1] += time * tx_bar;
      return;
    }
    const double my = py + 0.5 * time * v0_[2 * k], mx = px + 0.5 * time * v0_[2 * k + 1];
    Located at_y, at_x;
    y_faces_.locate(my, mx, at_y);
    x_faces_.locate(my, mx, at_x);
    const double mid_vy_bar = time * ty_bar, mid_vx_bar = time * tx_bar;
    splat(vy_bar, at_y, mid_vy_bar);
    splat(vx_bar, at_x, mid_vx_bar);
    const auto [vy_dy, vy_dx] = slope(vy_, at_y);
    const auto [vx_dy, vx_dx] = slope(vx_, at_x);
    v0_bar[2 * k] += 0.5 * time * (mid_vy_bar * vy_dy + mid_vx_bar * vx_dy);
    v0_bar[2 * k + 1] += 0.5 * time * (mid_vy_bar * vy_dx + mid_vx_bar * vx_dx);
  }

  const Layout &field_, &x_faces_, &y_faces_;
  const T *q_, *vx_, *vy_;
  double dt_;
  AdvectionOptions options_;
  std::vector<double> v0_;  // (vy, vx) at each point
  std::vector<double> semi_lagrangian_;
};

void raise_blown_up(const Tensor& q) {
  fail(
      "advect: a traced sample position is NaN, Inf or more than 2^52 cells away (field {}); did the "
      "velocity blow up?",
      shape_str(q.shape()));
}

}  // namespace

Tensor advect(const Tensor& q, Staggering staggering, const StaggeredField& velocity, const Grid2D& grid,
              double dt, const AdvectionOptions& options) {
  const Layout field(grid, staggering), x_faces(grid, Staggering::x_faces),
      y_faces(grid, Staggering::y_faces);
  const std::int64_t batch = q.shape()[0];
  Tensor out = Tensor::empty(q.shape(), q.dtype());
  std::vector<char> ok(batch, 1);
  dispatch_real(q.dtype(), "advect", [&](auto zero) {
    using T = decltype(zero);
    const T *qd = q.data<T>(), *vx = velocity.x_faces.data<T>(), *vy = velocity.y_faces.data<T>();
    T* o = out.data<T>();
    parallel_for(batch, field.size() * 60, [&](std::int64_t b) {
      Advection<T> example(field, x_faces, y_faces, qd + b * field.size(), vx + b * x_faces.size(),
                           vy + b * y_faces.size(), dt, options);
      ok[b] = example.semi_lagrangian_step() && example.write(o + b * field.size());
    });
  });
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) raise_blown_up(q);
  return out;
}

std::array<Tensor, 3> advect_adjoint(const Tensor& g, const Tensor& q, Staggering staggering,
                                     const StaggeredField& velocity, const Grid2D& grid, double dt,
                                     const AdvectionOptions& options) {
  const Layout field(grid, staggering), x_faces(grid, Staggering::x_faces),
      y_faces(grid, Staggering::y_faces);
  const std::int64_t batch = q.shape()[0];
  std::array<Tensor, 3> bars{zeros(q.shape(), DType::f64), zeros(velocity.x_faces.shape(), DType::f64),
                             zeros(velocity.y_faces.shape(), DType::f64)};
  std::vector<char> ok(batch, 1);
  dispatch_real(q.dtype(), "advect_adjoint", [&](auto zero) {
    using T = decltype(zero);
    const Tensor cotangent = cast(g, q.dtype());
    const T *gd = cotangent.data<T>(), *qd = q.data<T>(), *vx = velocity.x_faces.data<T>(),
            *vy = velocity.y_faces.data<T>();
    double *q_bar = bars[0].data<double>(), *vx_bar = bars[1].data<double>(),
           *vy_bar = bars[2].data<double>();
    parallel_for(batch, field.size() * 150, [&](std::int64_t b) {
      Advection<T> example(field, x_faces, y_faces, qd + b * field.size(), vx + b * x_faces.size(),
                           vy + b * y_faces.size(), dt, options);
      ok[b] = example.semi_lagrangian_step() &&
              example.adjoint(gd + b * field.size(), q_bar + b * field.size(), vx_bar + b * x_faces.size(),
                              vy_bar + b * y_faces.size());
    });
  });
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) raise_blown_up(q);
  for (Tensor& bar : bars) bar = cast(bar, q.dtype());
  return bars;
}

}  // namespace dphys::kernel
