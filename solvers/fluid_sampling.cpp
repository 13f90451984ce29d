#include "solvers/fluid_sampling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/ops.h"

namespace dphys {

namespace {

// The lower neighbour of each continuous index f along an axis of n samples, and the weight of the upper
// one (f minus the lower index, differentiable in f).
struct AxisWeights {
  std::vector<std::int64_t> lower, upper;
  Tensor t;
};

AxisWeights axis_weights(const Tensor& f, std::int64_t n, bool periodic) {
  // Clamping before taking the floor keeps the weight in [0, 1]; the clamp's zero gradient outside is the
  // exact derivative of constant extrapolation.
  const double last = static_cast<double>(n - 1);
  const Tensor position = periodic ? f : clamp(f, 0.0, last);
  const std::vector<double> values = cast(f.detach(), DType::f64).to_vector<double>();
  AxisWeights w;
  w.lower.resize(values.size());
  w.upper.resize(values.size());
  std::vector<double> base(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    // Beyond 2^52 cells a double no longer resolves the position within a cell.
    DPHYS_CHECK(std::abs(values[i]) < 0x1p52,
                "linear_stencil: sample position {} is {} cells away (NaN, Inf or huge; points of shape {}); "
                "did the velocity blow up?",
                i, values[i], shape_str(f.shape()));
    if (periodic) {
      const double floor = std::floor(values[i]);
      const auto k = static_cast<std::int64_t>(floor);
      w.lower[i] = ((k % n) + n) % n;
      w.upper[i] = (w.lower[i] + 1) % n;
      base[i] = floor;
    } else {
      // The last sample has no upper neighbour: use the segment below it, with weight 1.
      const auto floor = static_cast<std::int64_t>(std::floor(std::clamp(values[i], 0.0, last)));
      const std::int64_t k = std::min<std::int64_t>(floor, std::max<std::int64_t>(n - 2, 0));
      w.lower[i] = k;
      w.upper[i] = std::min(k + 1, n - 1);
      base[i] = static_cast<double>(k);
    }
  }
  w.t = position - from_vector(base, f.shape(), f.dtype());
  return w;
}

}  // namespace

std::pair<double, double> sample_origin(const Grid2D& grid, Staggering staggering) {
  const double cy = grid.y0 + 0.5 * grid.dy(), cx = grid.x0 + 0.5 * grid.dx();
  switch (staggering) {
    case Staggering::x_faces:
      return {cy, grid.x0};
    case Staggering::y_faces:
      return {grid.y0, cx};
    case Staggering::centered:
      break;
  }
  return {cy, cx};
}

Shape staggered_shape(const Grid2D& grid, Staggering staggering, std::int64_t batch) {
  switch (staggering) {
    case Staggering::x_faces:
      return grid.x_face_shape(batch);
    case Staggering::y_faces:
      return grid.y_face_shape(batch);
    case Staggering::centered:
      break;
  }
  return grid.centered_shape(batch);
}

std::pair<Tensor, Tensor> sample_points(const Grid2D& grid, Staggering staggering, DType dtype) {
  grid.validate("sample_points");
  const Shape shape = staggered_shape(grid, staggering, 1);
  const auto [oy, ox] = sample_origin(grid, staggering);
  const Tensor y = arange(0, static_cast<double>(shape[1]), 1, DType::f64) * grid.dy() + oy;
  const Tensor x = arange(0, static_cast<double>(shape[2]), 1, DType::f64) * grid.dx() + ox;
  return {cast(broadcast_to(reshape(y, {1, shape[1], 1}), shape), dtype),
          cast(broadcast_to(reshape(x, {1, 1, shape[2]}), shape), dtype)};
}

LinearStencil linear_stencil(const Grid2D& grid, Staggering staggering, const Tensor& y, const Tensor& x,
                             std::int64_t batch) {
  grid.validate("linear_stencil");
  DPHYS_CHECK(y.shape() == x.shape() && y.dim() >= 1 && (y.shape()[0] == 1 || y.shape()[0] == batch),
              "linear_stencil: points y {} and x {} must have one shape [1 or {}, ...]", shape_str(y.shape()),
              shape_str(x.shape()), batch);
  LinearStencil s;
  s.field_shape = staggered_shape(grid, staggering, batch);
  s.shape = y.shape();
  s.shape[0] = batch;
  const auto [oy, ox] = sample_origin(grid, staggering);
  const std::int64_t ny = s.field_shape[1], nx = s.field_shape[2];
  const AxisWeights wy = axis_weights((broadcast_to(y, s.shape) - oy) / grid.dy(), ny, grid.periodic());
  const AxisWeights wx = axis_weights((broadcast_to(x, s.shape) - ox) / grid.dx(), nx, grid.periodic());
  const std::int64_t count = static_cast<std::int64_t>(wy.lower.size());
  const Shape flat{batch, count / batch};
  const auto flat_index = [&](const std::vector<std::int64_t>& iy, const std::vector<std::int64_t>& ix) {
    std::vector<std::int64_t> index(count);
    for (std::int64_t i = 0; i < count; ++i) index[i] = iy[i] * nx + ix[i];
    return from_indices(index, flat);
  };
  s.corners = {flat_index(wy.lower, wx.lower), flat_index(wy.lower, wx.upper), flat_index(wy.upper, wx.lower),
               flat_index(wy.upper, wx.upper)};
  s.ty = wy.t;
  s.tx = wx.t;
  return s;
}

namespace {

std::array<Tensor, 4> corner_values(const Tensor& field, const LinearStencil& stencil) {
  DPHYS_CHECK(field.shape() == stencil.field_shape, "interpolate: field {} does not match the stencil's {}",
              shape_str(field.shape()), shape_str(stencil.field_shape));
  const Tensor flat = reshape(field, {field.shape()[0], -1});
  std::array<Tensor, 4> values;
  for (std::size_t k = 0; k < 4; ++k) values[k] = reshape(gather(flat, 1, stencil.corners[k]), stencil.shape);
  return values;
}

}  // namespace

Tensor interpolate(const Tensor& field, const LinearStencil& stencil) {
  const std::array<Tensor, 4> c = corner_values(field, stencil);
  const Tensor low = c[0] + stencil.tx * (c[1] - c[0]);
  const Tensor high = c[2] + stencil.tx * (c[3] - c[2]);
  return low + stencil.ty * (high - low);
}

std::pair<Tensor, Tensor> neighbour_range(const Tensor& field, const LinearStencil& stencil) {
  const std::array<Tensor, 4> c = corner_values(field, stencil);
  return {minimum(minimum(c[0], c[1]), minimum(c[2], c[3])),
          maximum(maximum(c[0], c[1]), maximum(c[2], c[3]))};
}

std::pair<Tensor, Tensor> sample_velocity(const StaggeredField& velocity, const Grid2D& grid, const Tensor& y,
                                          const Tensor& x) {
  const std::int64_t batch = velocity.x_faces.shape()[0];
  return {interpolate(velocity.y_faces, linear_stencil(grid, Staggering::y_faces, y, x, batch)),
          interpolate(velocity.x_faces, linear_stencil(grid, Staggering::x_faces, y, x, batch))};
}

}  // namespace dphys
