#pragma once
// Bilinear sampling of fields on a MAC grid (solvers/grid.h) at arbitrary points, for semi-Lagrangian
// advection. Everything is composed of differentiable whole-tensor ops (four gathers and a few lerps per
// sample), so gradients reach both the field values and the sample positions, to any order.
//
// Beyond the grid a periodic grid wraps; any other grid clamps the position to the field's own samples
// (constant extrapolation), as PhiFlow does at closed walls and open boundaries.
#include <array>
#include <utility>

#include "engine/tensor.h"
#include "solvers/grid.h"

namespace dphys {

// Where a field's samples lie: cell centres, x-faces or y-faces.
enum class Staggering { centered, x_faces, y_faces };

// The shape [B, ny', nx'] a field with this staggering has on `grid`.
Shape staggered_shape(const Grid2D& grid, Staggering staggering, std::int64_t batch);

// Physical position (y, x) of a field's sample [0, 0]; sample [i, j] lies i·dy and j·dx beyond it.
std::pair<double, double> sample_origin(const Grid2D& grid, Staggering staggering);

// Physical coordinates (y, x) of a field's samples, [1, ny', nx'] each.
std::pair<Tensor, Tensor> sample_points(const Grid2D& grid, Staggering staggering, DType dtype);

// The four neighbours of each sample point and its bilinear weights: built once, used for the value and,
// in MacCormack, for the min/max limiter of the same neighbourhood.
struct LinearStencil {
  Shape field_shape;  // [B, ny', nx'] of the fields it samples
  Shape shape;        // [B, ...] of the points
  // Flat i64 indices [B, M] into the field of the neighbours (y0,x0), (y0,x1), (y1,x0), (y1,x1).
  std::array<Tensor, 4> corners;
  Tensor ty, tx;  // weights of the y1 and x1 neighbours, [B, ...]; they carry the points' gradient
};

// The stencil of a `staggering` field at physical points (y, x) of equal shape [B or 1, ...], broadcast to
// `batch`. Raises on non-finite points (a blown-up velocity).
LinearStencil linear_stencil(const Grid2D& grid, Staggering staggering, const Tensor& y, const Tensor& x,
                             std::int64_t batch);
// Bilinear interpolation of field [B, ny', nx'] through the stencil.
Tensor interpolate(const Tensor& field, const LinearStencil& stencil);
// The smallest and largest of the four neighbours of each point.
std::pair<Tensor, Tensor> neighbour_range(const Tensor& field, const LinearStencil& stencil);

// Both velocity components of a staggered field at physical points (y, x): {v_y, v_x}.
std::pair<Tensor, Tensor> sample_velocity(const StaggeredField& velocity, const Grid2D& grid, const Tensor& y,
                                          const Tensor& x);

}  // namespace dphys
