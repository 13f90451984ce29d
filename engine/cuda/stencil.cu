// Device kernels of engine/stencil.cpp, one thread per output cell, with the CPU kernels' boundary rules.
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"
#include "engine/stencil_element.h"

namespace dphys::device_kernel {

namespace {

constexpr int kPeriodic = 0, kDirichlet = 1;

// The neighbour index of i + step on an axis of n cells, or -1 for a zero ghost (engine/stencil.cpp).
DPHYS_HOST_DEVICE std::int64_t neighbour(std::int64_t i, std::int64_t step, std::int64_t n, int boundary) {
  const std::int64_t j = i + step;
  if (j >= 0 && j < n) return j;
  if (boundary == kPeriodic) return (j + n) % n;
  return boundary == kDirichlet ? -1 : i;
}

template <class T>
void laplacian_typed(std::int64_t images, std::int64_t ny, std::int64_t nx, int dims, T cy, T cx,
                     int boundary, const T* x, T* out) {
  for_each("laplacian", images * ny * nx, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t j = idx % nx, i = (idx / nx) % ny;
    const T* image = x + (idx / (nx * ny)) * ny * nx;
    const T* line = image + i * nx;
    const std::int64_t left = neighbour(j, -1, nx, boundary), right = neighbour(j, 1, nx, boundary);
    T acc = cx * ((left >= 0 ? line[left] : T(0)) + (right >= 0 ? line[right] : T(0)) - 2 * line[j]);
    if (dims == 2) {
      const std::int64_t up = neighbour(i, -1, ny, boundary), down = neighbour(i, 1, ny, boundary);
      acc += cy * ((up >= 0 ? image[up * nx + j] : T(0)) + (down >= 0 ? image[down * nx + j] : T(0)) -
                   2 * line[j]);
    }
    out[idx] = acc;
  });
}

template <class T>
void weighted_poisson_typed(std::int64_t batch, std::int64_t ny, std::int64_t nx, T cy, T cx, int boundary,
                            const T* p, const T* wx, bool wx_batched, const T* wy, bool wy_batched,
                            const T* d, bool d_batched, T* out) {
  const bool periodic = boundary == kPeriodic, ghost_flux = boundary == kDirichlet;
  const std::int64_t nxf = periodic ? nx : nx + 1, nyf = periodic ? ny : ny + 1;
  for_each("weighted_poisson", batch * ny * nx, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t j = idx % nx, i = (idx / nx) % ny, b = idx / (nx * ny);
    const T* image = p + b * ny * nx;
    const T* line = image + i * nx;
    const T c = line[j];
    // Neighbouring rows: -1 beyond a non-periodic boundary, where a Dirichlet ghost is 0.
    const std::int64_t above = i > 0 ? i - 1 : (periodic ? ny - 1 : -1);
    const std::int64_t below = i + 1 < ny ? i + 1 : (periodic ? 0 : -1);
    const T* w_left = wx + ((wx_batched ? b : 0) * ny + i) * nxf;
    const T* wy_image = wy + (wy_batched ? b : 0) * nyf * nx;
    const T w_above = wy_image[i * nx + j];
    const T w_below = wy_image[(periodic && i + 1 == ny ? 0 : i + 1) * nx + j];
    // Vertical fluxes' multipliers: 0 through a Neumann wall.
    const T flux_above = (above >= 0 || ghost_flux) ? cy : T(0),
            flux_below = (below >= 0 || ghost_flux) ? cy : T(0);
    T acc = flux_above * w_above * (c - (above >= 0 ? image[above * nx + j] : T(0))) +
            flux_below * w_below * (c - (below >= 0 ? image[below * nx + j] : T(0)));
    acc = kernel::add_weighted_poisson_horizontal(acc, j, nx, periodic, ghost_flux, cx, w_left, line, c);
    if (d) acc += d[((d_batched ? b : 0) * ny + i) * nx + j] * c;
    out[idx] = acc;
  });
}

template <class T>
void axis_difference_typed(std::int64_t outer, std::int64_t n, std::int64_t inner, std::int64_t n_out,
                           std::int64_t lo, std::int64_t hi, T scale, bool periodic, const T* x, T* out) {
  for_each("axis_difference", outer * n_out * inner, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t k = idx % inner, i = (idx / inner) % n_out, o = idx / (inner * n_out);
    const T* block = x + o * n * inner;
    // Row j's element k, and whether it exists (zero outside a non-periodic axis).
    const auto at = [&](std::int64_t j, bool& inside) {
      if (j < 0 || j >= n) {
        inside = periodic;
        if (!periodic) return T(0);
        j = j < 0 ? j + n : j - n;
      } else {
        inside = true;
      }
      return block[j * inner + k];
    };
    bool has_upper = false, has_lower = false;
    const T upper = at(i + hi, has_upper), lower = at(i + lo, has_lower);
    if (has_upper && has_lower)
      out[idx] = scale * (upper - lower);
    else if (has_upper)
      out[idx] = scale * upper;
    else if (has_lower)
      out[idx] = -(scale * lower);
    else
      out[idx] = T(0);
  });
}

}  // namespace

void laplacian(DType dtype, std::int64_t images, std::int64_t ny, std::int64_t nx, int dims, double dy,
               double dx, int boundary, const void* x, void* out) {
  const double cx = 1.0 / (dx * dx), cy = dims == 2 ? 1.0 / (dy * dy) : 0.0;
  if (dtype == DType::f32)
    return laplacian_typed(images, ny, nx, dims, static_cast<float>(cy), static_cast<float>(cx), boundary,
                           static_cast<const float*>(x), static_cast<float*>(out));
  laplacian_typed(images, ny, nx, dims, cy, cx, boundary, static_cast<const double*>(x),
                  static_cast<double*>(out));
}

void weighted_poisson(DType dtype, std::int64_t batch, std::int64_t ny, std::int64_t nx, double dy, double dx,
                      int boundary, const void* p, const void* wx, bool wx_batched, const void* wy,
                      bool wy_batched, const void* d, bool d_batched, void* out) {
  const double cx = 1.0 / (dx * dx), cy = 1.0 / (dy * dy);
  if (dtype == DType::f32)
    return weighted_poisson_typed(batch, ny, nx, static_cast<float>(cy), static_cast<float>(cx), boundary,
                                  static_cast<const float*>(p), static_cast<const float*>(wx), wx_batched,
                                  static_cast<const float*>(wy), wy_batched, static_cast<const float*>(d),
                                  d_batched, static_cast<float*>(out));
  weighted_poisson_typed(batch, ny, nx, cy, cx, boundary, static_cast<const double*>(p),
                         static_cast<const double*>(wx), wx_batched, static_cast<const double*>(wy),
                         wy_batched, static_cast<const double*>(d), d_batched, static_cast<double*>(out));
}

void axis_difference(DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner, std::int64_t n_out,
                     std::int64_t lo, std::int64_t hi, double h, bool periodic, const void* x, void* out) {
  if (dtype == DType::f32)
    return axis_difference_typed(outer, n, inner, n_out, lo, hi, static_cast<float>(1.0 / h), periodic,
                                 static_cast<const float*>(x), static_cast<float*>(out));
  axis_difference_typed(outer, n, inner, n_out, lo, hi, 1.0 / h, periodic, static_cast<const double*>(x),
                        static_cast<double*>(out));
}

}  // namespace dphys::device_kernel
