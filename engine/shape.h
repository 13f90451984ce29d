#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dphys {

using Shape = std::vector<std::int64_t>;

std::int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);
// Row-major strides in elements.
Shape contiguous_strides(const Shape& shape);
// Wraps a possibly negative axis into [0, ndim); `op` (and `shape`, when given) appear in the error.
int normalize_axis(std::int64_t axis, std::int64_t ndim, const char* op, const Shape& shape = {});
// NumPy broadcasting of two shapes; `op` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace dphys
