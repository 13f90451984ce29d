#include "solvers/grid.h"

#include <cmath>

#include "autodiff/ops.h"

namespace dphys {

void Grid2D::validate(const char* op) const {
  DPHYS_CHECK(
      ny > 0 && nx > 0 && length_y > 0 && length_x > 0 && std::isfinite(length_y) && std::isfinite(length_x),
      "{}: invalid grid {}x{} of size {} x {}", op, ny, nx, length_y, length_x);
}

Tensor Grid2D::cell_y(DType dtype) const {
  return cast(reshape((arange(0, static_cast<double>(ny), 1, DType::f64) + 0.5) * dy() + y0, {ny, 1}), dtype);
}

Tensor Grid2D::cell_x(DType dtype) const {
  return cast(reshape((arange(0, static_cast<double>(nx), 1, DType::f64) + 0.5) * dx() + x0, {1, nx}), dtype);
}

void Grid1D::validate(const char* op) const {
  DPHYS_CHECK(n > 0 && length > 0 && std::isfinite(length), "{}: invalid grid of {} cells over length {}", op,
              n, length);
}

Tensor Grid1D::cell_x(DType dtype) const {
  return cast((arange(0, static_cast<double>(n), 1, DType::f64) + 0.5) * dx() + x0, dtype);
}

void check_staggered(const char* op, const StaggeredField& v, const Grid2D& grid) {
  grid.validate(op);
  const std::int64_t batch = v.x_faces.dim() == 3 ? v.x_faces.shape()[0] : -1;
  DPHYS_CHECK(v.x_faces.shape() == grid.x_face_shape(batch) && v.y_faces.shape() == grid.y_face_shape(batch),
              "{}: faces {} and {} do not match the {}x{} grid (expected {} and {})", op,
              shape_str(v.x_faces.shape()), shape_str(v.y_faces.shape()), grid.ny, grid.nx,
              shape_str(grid.x_face_shape(batch)), shape_str(grid.y_face_shape(batch)));
}

}  // namespace dphys
