#pragma once
// Regular 2-D grids: cells of size dy × dx covering [y0, y0 + length_y) × [x0, x0 + length_x), batched over a
// leading axis. Centred fields are [B, ny, nx]. Staggered (MAC) fields hold normal components on faces:
// x-faces [B, ny, nx + 1] and y-faces [B, ny + 1, nx]; with periodic boundaries the last face repeats the
// first and is not stored ([B, ny, nx] each).
#include "engine/stencil.h"
#include "engine/tensor.h"

namespace dphys {

struct Grid2D {
  std::int64_t ny = 0, nx = 0;
  double length_y = 1.0, length_x = 1.0;
  double y0 = 0.0, x0 = 0.0;
  Boundary boundary = Boundary::periodic;

  double dy() const { return length_y / static_cast<double>(ny); }
  double dx() const { return length_x / static_cast<double>(nx); }
  bool periodic() const { return boundary == Boundary::periodic; }
  Shape centered_shape(std::int64_t batch) const { return {batch, ny, nx}; }
  Shape x_face_shape(std::int64_t batch) const { return {batch, ny, periodic() ? nx : nx + 1}; }
  Shape y_face_shape(std::int64_t batch) const { return {batch, periodic() ? ny : ny + 1, nx}; }
  // Coordinates of cell centres, [ny, 1] and [1, nx] (broadcast them to build fields).
  Tensor cell_y(DType dtype = DType::f64) const;
  Tensor cell_x(DType dtype = DType::f64) const;
  // Raises unless the sizes are positive and the lengths finite and positive.
  void validate(const char* op) const;
};

// The 1-D analogue: n cells of size dx on [x0, x0 + length); centred fields [B, n], face fields [B, n + 1]
// ([B, n] when periodic).
struct Grid1D {
  std::int64_t n = 0;
  double length = 1.0;
  double x0 = 0.0;
  Boundary boundary = Boundary::periodic;

  double dx() const { return length / static_cast<double>(n); }
  bool periodic() const { return boundary == Boundary::periodic; }
  Shape centered_shape(std::int64_t batch) const { return {batch, n}; }
  Shape face_shape(std::int64_t batch) const { return {batch, periodic() ? n : n + 1}; }
  Tensor cell_x(DType dtype = DType::f64) const;  // [n]
  void validate(const char* op) const;
};

// A staggered vector field: normal components on x-faces and y-faces.
struct StaggeredField {
  Tensor x_faces, y_faces;
};

// Raises, naming `op`, unless the grid is valid and v's faces have its shapes for one batch size.
void check_staggered(const char* op, const StaggeredField& v, const Grid2D& grid);

}  // namespace dphys
