#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dphys {

// Element types. f32 is the default (GPU speed), f64 is for gradient checks and quasi-Newton methods,
// complex types exist for FFTs, i64 only for indices (argmax, gather, index_select).
enum class DType : std::uint8_t { f32, f64, c64, c128, i64 };

using c64 = std::complex<float>;
using c128 = std::complex<double>;

std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
bool is_complex(DType dtype);
bool is_floating(DType dtype);  // f32, f64, c64, c128: the types arithmetic is defined on
// NumPy-style promotion between floating types: the wider precision wins, complex wins over real.
DType promote_types(DType a, DType b);

// Whether a floating value converts to int64 with a defined result: finite and within [−2^63, 2^63). (C++
// leaves the conversion of anything else undefined; x86 gives INT64_MIN.)
inline bool fits_i64(double v) { return v >= -0x1p63 && v < 0x1p63; }

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct dtype_of<c64> {
  static constexpr DType value = DType::c64;
};
template <>
struct dtype_of<c128> {
  static constexpr DType value = DType::c128;
};
template <>
struct dtype_of<std::int64_t> {
  static constexpr DType value = DType::i64;
};

}  // namespace dphys
