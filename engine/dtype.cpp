#include "engine/dtype.h"

#include "engine/error.h"

namespace dphys {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::c64:
      return 8;
    case DType::c128:
      return 16;
    case DType::i64:
      return 8;
  }
  fail("dtype_size: unknown dtype {}", static_cast<int>(dtype));
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::c64:
      return "c64";
    case DType::c128:
      return "c128";
    case DType::i64:
      return "i64";
  }
  return "unknown";
}

bool is_complex(DType dtype) { return dtype == DType::c64 || dtype == DType::c128; }
bool is_floating(DType dtype) { return dtype != DType::i64; }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  DPHYS_CHECK(is_floating(a) && is_floating(b), "promote_types: cannot mix {} and {}", dtype_name(a),
              dtype_name(b));
  const bool wide = a == DType::f64 || a == DType::c128 || b == DType::f64 || b == DType::c128;
  if (is_complex(a) || is_complex(b)) return wide ? DType::c128 : DType::c64;
  return wide ? DType::f64 : DType::f32;
}

}  // namespace dphys
