#pragma once
// Kernels that move elements without arithmetic (except the scatter-adds, which are their adjoints).
#include <vector>

#include "engine/tensor.h"

namespace dphys::kernel {

// Same storage, new shape; one entry may be -1 and is inferred.
Tensor reshape(const Tensor& x, Shape shape);
Tensor permute(const Tensor& x, const std::vector<int>& perm);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor concat(const std::vector<Tensor>& xs, int axis);

// Per-axis index maps: out[i0, i1, ...] = x[maps[0][i0], maps[1][i1], ...], or `fill` where any map entry is
// -1. Slicing, flipping, rolling and every padding mode are such maps, so one kernel (and one adjoint) serves
// them all.
using AxisMaps = std::vector<std::vector<std::int64_t>>;
Tensor axis_map_gather(const Tensor& x, const AxisMaps& maps, double fill);
// The adjoint of axis_map_gather: out (shape `shape`) accumulates g[i...] at the mapped source index.
Tensor axis_map_scatter_add(const Tensor& g, const AxisMaps& maps, const Shape& shape);

// out = x indexed by the 1-D i64 `index` along `axis`.
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis`; index has x's shape except along axis.
Tensor gather(const Tensor& x, int axis, const Tensor& index);
// out = base, then out[..., index[..., i, ...], ...] += src[..., i, ...] along axis; index has src's shape.
Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);
// out = base, then out[..., index[k], ...] += src[..., k, ...] along axis, for a 1-D i64 index with
// src.shape[axis] entries: index_select's adjoint, without scatter_add's index of src's full shape.
Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);

}  // namespace dphys::kernel
