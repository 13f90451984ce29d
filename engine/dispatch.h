#pragma once
// Run-time dtype dispatch for the CPU kernels: calls `f` with a value of the element type.
#include "engine/dtype.h"
#include "engine/error.h"

namespace dphys {

template <class F>
decltype(auto) dispatch_real(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
    default:
      fail("{}: not supported for dtype {} (expected f32 or f64)", op, dtype_name(dtype));
  }
}

template <class F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
    case DType::c64:
      return f(c64{});
    case DType::c128:
      return f(c128{});
    default:
      fail("{}: not supported for dtype {} (expected a floating type)", op, dtype_name(dtype));
  }
}

template <class F>
decltype(auto) dispatch_all(DType dtype, const char* op, F&& f) {
  if (dtype == DType::i64) return f(std::int64_t{});
  return dispatch_floating(dtype, op, std::forward<F>(f));
}

// Kernels that only move elements depend on the element size, not on its type.
template <class F>
decltype(auto) dispatch_by_size(DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 4:
      return f(std::uint32_t{});
    case 8:
      return f(std::uint64_t{});
    default:
      return f(c128{});
  }
}

}  // namespace dphys
