#include "engine/stencil.h"

#include <algorithm>

#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "engine/stencil_element.h"

namespace dphys::kernel {

namespace {

// The neighbour index of i + step on an axis of n cells, or -1 for a zero ghost.
inline std::int64_t neighbour(std::int64_t i, std::int64_t step, std::int64_t n, Boundary boundary) {
  const std::int64_t j = i + step;
  if (j >= 0 && j < n) return j;
  switch (boundary) {
    case Boundary::periodic:
      return (j + n) % n;
    case Boundary::neumann:
      return i;
    case Boundary::dirichlet:
      return -1;
  }
  return -1;
}

}  // namespace

Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary) {
  DPHYS_CHECK((dims == 1 || dims == 2) && x.dim() >= dims,
              "laplacian: expected at least {} axes, got shape {}", dims, shape_str(x.shape()));
  DPHYS_CHECK(dx > 0 && (dims == 1 || dy > 0), "laplacian: grid spacing must be positive, got dy={} dx={}",
              dy, dx);
  const std::int64_t nx = x.shape().back(), ny = dims == 2 ? x.shape()[x.dim() - 2] : 1;
  DPHYS_CHECK(nx > 0 && ny > 0, "laplacian: empty grid in shape {}", shape_str(x.shape()));
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const std::int64_t images = x.numel() / (nx * ny);
  if (!x.device().is_cpu()) {
    check_device_dtype("laplacian", x);
    device_kernel::laplacian(x.dtype(), images, ny, nx, dims, dy, dx, static_cast<int>(boundary),
                             device_address(x), device_address(out));
    return out;
  }
  dispatch_real(x.dtype(), "laplacian", [&](auto t) {
    using T = decltype(t);
    const T cx = T(1.0 / (dx * dx)), cy = dims == 2 ? T(1.0 / (dy * dy)) : T(0);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    parallel_for(images * ny, nx * 6, [&](std::int64_t row) {
      const std::int64_t i = row % ny;
      const T* img = in + (row / ny) * ny * nx;
      const T* line = img + i * nx;
      T* dst = o + row * nx;
      const std::int64_t up = dims == 2 ? neighbour(i, -1, ny, boundary) : -1;
      const std::int64_t down = dims == 2 ? neighbour(i, 1, ny, boundary) : -1;
      const T* above = up >= 0 ? img + up * nx : nullptr;
      const T* below = down >= 0 ? img + down * nx : nullptr;
      const auto at = [&](std::int64_t j) {
        const std::int64_t left = neighbour(j, -1, nx, boundary), right = neighbour(j, 1, nx, boundary);
        T acc = cx * ((left >= 0 ? line[left] : T(0)) + (right >= 0 ? line[right] : T(0)) - 2 * line[j]);
        if (dims == 2) acc += cy * ((above ? above[j] : T(0)) + (below ? below[j] : T(0)) - 2 * line[j]);
        return acc;
      };
      dst[0] = at(0);
      // Interior columns: no boundary logic, so the loop vectorises.
      if (dims == 2 && above && below) {
        for (std::int64_t j = 1; j < nx - 1; ++j)
          dst[j] = cx * (line[j - 1] + line[j + 1] - 2 * line[j]) + cy * (above[j] + below[j] - 2 * line[j]);
      } else {
        for (std::int64_t j = 1; j < nx - 1; ++j) dst[j] = at(j);
      }
      if (nx > 1) dst[nx - 1] = at(nx - 1);
    });
  });
  return out;
}

namespace {

void check_weights(const char* name, const Tensor& w, const Tensor& p, std::int64_t rows, std::int64_t cols) {
  DPHYS_CHECK(w.dtype() == p.dtype() && w.dim() == 3 && (w.shape()[0] == 1 || w.shape()[0] == p.shape()[0]) &&
                  w.shape()[1] == rows && w.shape()[2] == cols,
              "weighted_poisson: {} must be {} [1 or {}, {}, {}] for p {}, got {} {}", name,
              dtype_name(p.dtype()), p.shape()[0], rows, cols, shape_str(p.shape()), dtype_name(w.dtype()),
              shape_str(w.shape()));
  DPHYS_CHECK(w.device() == p.device(), "weighted_poisson: {} are on {} but p is on {}", name,
              w.device().str(), p.device().str());
}

}  // namespace

Tensor weighted_poisson(const Tensor& p, const Tensor& wx, const Tensor& wy, const Tensor& d, double dy,
                        double dx, Boundary boundary) {
  DPHYS_CHECK(p.dim() == 3 && p.numel() > 0, "weighted_poisson: expected cell values [B, ny, nx], got {}",
              shape_str(p.shape()));
  DPHYS_CHECK(dy > 0 && dx > 0, "weighted_poisson: grid spacing must be positive, got dy={} dx={}", dy, dx);
  const std::int64_t batch = p.shape()[0], ny = p.shape()[1], nx = p.shape()[2];
  const bool periodic = boundary == Boundary::periodic, ghost_flux = boundary == Boundary::dirichlet;
  const std::int64_t nxf = periodic ? nx : nx + 1, nyf = periodic ? ny : ny + 1;
  check_weights("x-face weights", wx, p, ny, nxf);
  check_weights("y-face weights", wy, p, nyf, nx);
  if (d.defined()) check_weights("the diagonal", d, p, ny, nx);
  Tensor out = Tensor::empty(p.shape(), p.dtype(), p.device());
  if (!p.device().is_cpu()) {
    check_device_dtype("weighted_poisson", p);
    device_kernel::weighted_poisson(
        p.dtype(), batch, ny, nx, dy, dx, static_cast<int>(boundary), device_address(p), device_address(wx),
        wx.shape()[0] > 1, device_address(wy), wy.shape()[0] > 1, d.defined() ? device_address(d) : nullptr,
        d.defined() && d.shape()[0] > 1, device_address(out));
    return out;
  }
  dispatch_real(p.dtype(), "weighted_poisson", [&](auto t) {
    using T = decltype(t);
    const T cx = T(1.0 / (dx * dx)), cy = T(1.0 / (dy * dy));
    const T *pd = p.data<T>(), *wxd = wx.data<T>(), *wyd = wy.data<T>();
    const T* dd = d.defined() ? d.data<T>() : nullptr;
    const bool wx_batched = wx.shape()[0] > 1, wy_batched = wy.shape()[0] > 1,
               d_batched = d.defined() && d.shape()[0] > 1;
    T* o = out.data<T>();
    parallel_for(batch * ny, nx * 12, [&](std::int64_t row) {
      const std::int64_t b = row / ny, i = row % ny;
      const T* image = pd + b * ny * nx;
      const T* line = image + i * nx;
      // Neighbouring rows; null beyond a non-periodic boundary, where a Dirichlet ghost is 0.
      const T* above = i > 0 ? line - nx : (periodic ? image + (ny - 1) * nx : nullptr);
      const T* below = i + 1 < ny ? line + nx : (periodic ? image : nullptr);
      const T* w_left = wxd + ((wx_batched ? b : 0) * ny + i) * nxf;
      const T* wy_image = wyd + (wy_batched ? b : 0) * nyf * nx;
      const T* w_above = wy_image + i * nx;
      const T* w_below = wy_image + (periodic && i + 1 == ny ? 0 : i + 1) * nx;
      const T* diagonal = dd ? dd + ((d_batched ? b : 0) * ny + i) * nx : nullptr;
      // Vertical fluxes' multipliers: 0 through a Neumann wall.
      const T flux_above = (above || ghost_flux) ? cy : T(0), flux_below = (below || ghost_flux) ? cy : T(0);
      T* dst = o + row * nx;
      const auto vertical = [&](std::int64_t j, T c) {
        return flux_above * w_above[j] * (c - (above ? above[j] : T(0))) +
               flux_below * w_below[j] * (c - (below ? below[j] : T(0)));
      };
      const auto edge = [&](std::int64_t j) {
        const T c = line[j];
        const T acc =
            add_weighted_poisson_horizontal(vertical(j, c), j, nx, periodic, ghost_flux, cx, w_left, line, c);
        return diagonal ? acc + diagonal[j] * c : acc;
      };
      dst[0] = edge(0);
      if (above && below && diagonal) {  // the common row: no boundary logic, so the loop vectorises
        for (std::int64_t j = 1; j + 1 < nx; ++j) {
          const T c = line[j];
          dst[j] = cx * (w_left[j] * (c - line[j - 1]) + w_left[j + 1] * (c - line[j + 1])) +
                   cy * (w_above[j] * (c - above[j]) + w_below[j] * (c - below[j])) + diagonal[j] * c;
        }
      } else {
        for (std::int64_t j = 1; j + 1 < nx; ++j) {
          const T c = line[j];
          const T acc =
              cx * (w_left[j] * (c - line[j - 1]) + w_left[j + 1] * (c - line[j + 1])) + vertical(j, c);
          dst[j] = diagonal ? acc + diagonal[j] * c : acc;
        }
      }
      if (nx > 1) dst[nx - 1] = edge(nx - 1);
    });
  });
  return out;
}

}  // namespace dphys::kernel

namespace dphys::kernel {

namespace {

struct AxisView {
  std::int64_t outer = 1, n = 1, inner = 1;
  AxisView(const Shape& shape, int axis) {
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    n = shape[axis];
  }
};

// out[o, i, k] = (src(i + offset_hi) − src(i + offset_lo)) / h over [outer, n_out, inner], where src(j) reads
// the input at j (wrapped when periodic, zero outside otherwise).
Tensor difference(const char* op, const Tensor& x, int axis, double h, bool periodic, std::int64_t n_out,
                  std::int64_t lo, std::int64_t hi) {
  const AxisView in(x.shape(), axis);
  Shape shape = x.shape();
  shape[axis] = n_out;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    check_device_dtype(op, x);
    device_kernel::axis_difference(x.dtype(), in.outer, in.n, in.inner, n_out, lo, hi, h, periodic,
                                   device_address(x), device_address(out));
    return out;
  }
  dispatch_real(x.dtype(), op, [&](auto t) {
    using T = decltype(t);
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    const T scale = T(1.0 / h);
    parallel_for(in.outer, n_out * in.inner * 2, [&](std::int64_t o) {
      const T* block = src + o * in.n * in.inner;
      // Source row j, or null outside a non-periodic axis. The offsets lo and hi are −1, 0 or 1, so j lies in
      // [−1, n] and one wrap suffices (a modulo per element made this kernel 100× slower than an add).
      const auto row = [&](std::int64_t j) -> const T* {
        if (j < 0 || j >= in.n) {
          if (!periodic) return nullptr;
          j = j < 0 ? j + in.n : j - in.n;
        }
        return block + j * in.inner;
      };
      const auto edge_row = [&](std::int64_t i) {
        const T* upper = row(i + hi);
        const T* lower = row(i + lo);
        T* out_row = dst + (o * n_out + i) * in.inner;
        if (upper && lower) {
          for (std::int64_t k = 0; k < in.inner; ++k) out_row[k] = scale * (upper[k] - lower[k]);
        } else if (upper) {
          for (std::int64_t k = 0; k < in.inner; ++k) out_row[k] = scale * upper[k];
        } else if (lower) {
          for (std::int64_t k = 0; k < in.inner; ++k) out_row[k] = -(scale * lower[k]);
        } else {
          std::fill(out_row, out_row + in.inner, T(0));
        }
      };
      // Rows whose neighbours both lie inside: one flat, vectorisable loop (the rows are contiguous).
      const std::int64_t first = std::max<std::int64_t>({0, -lo, -hi});
      const std::int64_t last = std::min<std::int64_t>({n_out, in.n - lo, in.n - hi});
      for (std::int64_t i = 0; i < std::min(first, n_out); ++i) edge_row(i);
      if (first < last) {
        T* out_rows = dst + (o * n_out + first) * in.inner;
        const T* upper = block + (first + hi) * in.inner;
        const T* lower = block + (first + lo) * in.inner;
        for (std::int64_t m = 0; m < (last - first) * in.inner; ++m)
          out_rows[m] = scale * (upper[m] - lower[m]);
      }
      for (std::int64_t i = std::max(first, last); i < n_out; ++i) edge_row(i);
    });
  });
  return out;
}

int checked_axis(const char* op, const Tensor& x, int axis, double h) {
  DPHYS_CHECK(h > 0, "{}: grid spacing must be positive, got {}", op, h);
  return normalize_axis(axis, x.dim(), op, x.shape());
}

}  // namespace

Tensor face_difference(const Tensor& faces, int axis, double h, bool periodic) {
  axis = checked_axis("face_difference", faces, axis, h);
  const std::int64_t n = periodic ? faces.shape()[axis] : faces.shape()[axis] - 1;
  DPHYS_CHECK(n >= 1, "face_difference: axis {} of shape {} holds no cell", axis, shape_str(faces.shape()));
  return difference("face_difference", faces, axis, h, periodic, n, 0, 1);
}

Tensor face_difference_adjoint(const Tensor& cells, int axis, double h, bool periodic) {
  axis = checked_axis("face_difference_adjoint", cells, axis, h);
  const std::int64_t n = cells.shape()[axis];
  return difference("face_difference_adjoint", cells, axis, h, periodic, periodic ? n : n + 1, 0, -1);
}

}  // namespace dphys::kernel
