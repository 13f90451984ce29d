#pragma once
// Reductions over axes. An empty axis list reduces over every axis.
#include <vector>

#include "engine/op_kinds.h"
#include "engine/tensor.h"

namespace dphys::kernel {

Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int> axes, bool keepdims);
// Index of the largest element along one axis, as i64.
Tensor argmax(const Tensor& x, int axis, bool keepdims);
// Normalises (possibly negative) axes, sorts them and rejects duplicates; empty means all axes.
std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op,
                                const Shape& shape = {});
// The shape after reducing `axes` (normalised) with keepdims.
Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims);

}  // namespace dphys::kernel
