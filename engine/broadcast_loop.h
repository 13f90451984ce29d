#pragma once
// Iteration over an output shape with N inputs broadcast against it (stride 0 on broadcast axes).
#include <array>
#include <cstdint>

#include "engine/parallel.h"
#include "engine/shape.h"

namespace dphys {

// Strides (in elements) of `shape` when viewed as broadcast to `out_shape`.
inline Shape broadcast_strides(const Shape& shape, const Shape& out_shape) {
  Shape strides(out_shape.size(), 0);
  const Shape own = contiguous_strides(shape);
  const std::size_t lead = out_shape.size() - shape.size();
  for (std::size_t i = 0; i < shape.size(); ++i) strides[lead + i] = shape[i] == 1 ? 0 : own[i];
  return strides;
}

// Merges adjacent axes that every operand walks contiguously (stride[d] = stride[d + 1] · shape[d + 1]), so
// that e.g. [B, C, H, W] against [1, C, 1, 1] iterates rows of H·W elements instead of rows of W.
template <std::size_t N>
void coalesce(Shape& shape, std::array<Shape, N>& strides) {
  Shape merged_shape;
  std::array<Shape, N> merged;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    bool joins = !merged_shape.empty();
    for (std::size_t k = 0; joins && k < N; ++k) joins = merged[k].back() == strides[k][d] * shape[d];
    if (joins) {
      merged_shape.back() *= shape[d];
      for (std::size_t k = 0; k < N; ++k) merged[k].back() = strides[k][d];
    } else {
      merged_shape.push_back(shape[d]);
      for (std::size_t k = 0; k < N; ++k) merged[k].push_back(strides[k][d]);
    }
  }
  shape = std::move(merged_shape);
  strides = std::move(merged);
}

// Calls f(out_index, offsets) for every output element; offsets[k] is the element offset in input k.
// Rows along the last (coalesced) axis are the unit of work, so the inner loop has constant strides.
template <std::size_t N, class F>
void for_each_broadcast(const Shape& full_shape, const std::array<Shape, N>& full_strides, F&& f) {
  Shape out_shape = full_shape;
  std::array<Shape, N> strides = full_strides;
  coalesce(out_shape, strides);
  const int ndim = static_cast<int>(out_shape.size());
  const std::int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  if (ndim == 0) {
    std::array<std::int64_t, N> offsets{};
    f(std::int64_t{0}, offsets);
    return;
  }
  const std::int64_t row = out_shape[ndim - 1];
  const std::int64_t rows = total / row;
  parallel_for(rows, row, [&](std::int64_t r) {
    std::array<std::int64_t, N> offsets{};
    std::int64_t rest = r;
    for (int d = ndim - 2; d >= 0; --d) {
      const std::int64_t i = rest % out_shape[d];
      rest /= out_shape[d];
      for (std::size_t k = 0; k < N; ++k) offsets[k] += i * strides[k][d];
    }
    std::array<std::int64_t, N> inner{};
    for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][ndim - 1];
    const std::int64_t base = r * row;
    for (std::int64_t j = 0; j < row; ++j) {
      f(base + j, offsets);
      for (std::size_t k = 0; k < N; ++k) offsets[k] += inner[k];
    }
  });
}

}  // namespace dphys
