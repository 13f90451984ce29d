// Tensor::str: nested brackets like NumPy, summarised with "..." beyond kEdgeItems per axis.
#include <string>

#include "engine/dispatch.h"
#include "engine/tensor.h"

namespace dphys {

namespace {

constexpr std::int64_t kSummariseAbove = 1000;
constexpr std::int64_t kEdgeItems = 3;

template <class T>
std::string format_element(T v) {
  if constexpr (std::is_integral_v<T>) {
    return fmt::format("{}", v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return fmt::format("{:.6g}", v);
  } else {
    return fmt::format("{:.6g}{:+.6g}i", v.real(), v.imag());
  }
}

template <class T>
void format_axis(std::string& out, const T* data, const Shape& shape, const Shape& strides, int axis,
                 std::int64_t offset, bool summarise) {
  if (axis == static_cast<int>(shape.size())) {
    out += format_element(data[offset]);
    return;
  }
  const std::int64_t n = shape[axis];
  const bool cut = summarise && n > 2 * kEdgeItems;
  out += '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      // Innermost axis: "..." among the numbers; outer axes: a "..." row of its own, as NumPy prints.
      out += axis + 1 == static_cast<int>(shape.size()) ? "..., " : "...,\n" + std::string(axis + 1, ' ');
      i = n - kEdgeItems;
    }
    format_axis(out, data, shape, strides, axis + 1, offset + i * strides[axis], summarise);
    if (i + 1 < n)
      out += axis + 1 == static_cast<int>(shape.size()) ? ", " : ",\n" + std::string(axis + 1, ' ');
  }
  out += ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::string out =
      fmt::format("Tensor(shape={}, dtype={}, device={}{})\n", shape_str(shape()), dtype_name(dtype()),
                  device().str(), requires_grad() ? ", requires_grad" : "");
  const Tensor host = to(Device::cpu());
  dispatch_all(dtype(), "str", [&](auto t) {
    using T = decltype(t);
    format_axis(out, host.data<T>(), shape(), contiguous_strides(shape()), 0, 0, numel() > kSummariseAbove);
  });
  return out;
}

std::ostream& operator<<(std::ostream& out, const Tensor& tensor) { return out << tensor.str(); }

}  // namespace dphys
