#include "engine/stencil.h"

#include "engine/dispatch.h"
#include "engine/parallel.h"

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
      for (std::int64_t j = 0; j < nx; ++j) {
        const std::int64_t left = neighbour(j, -1, nx, boundary), right = neighbour(j, 1, nx, boundary);
        T acc = cx * ((left >= 0 ? line[left] : T(0)) + (right >= 0 ? line[right] : T(0)) - 2 * line[j]);
        if (dims == 2)
          acc += cy * ((up >= 0 ? img[up * nx + j] : T(0)) + (down >= 0 ? img[down * nx + j] : T(0)) -
                       2 * line[j]);
        dst[j] = acc;
      }
    });
  });
  return out;
}

}  // namespace dphys::kernel
