#pragma once
// Exact rescaling by powers of two, for kernels that must work at unit scale: the eigensolver's squared
// norms underflow or overflow for matrices of size far from 1, and a power of two changes no digit.
#include <cmath>

namespace dphys::kernel {

// The exponent e of `largest` (0 for 0): largest·2^−e lies in [1, 2).
template <class T>
int unit_scale_exponent(T largest) {
  return largest > 0 ? std::ilogb(largest) : 0;
}

// values *= 2^−exponent, for an Eigen expression that supports *=. In two factors: 2^−exponent alone
// overflows when `exponent` is that of a subnormal number.
template <class T, class Values>
void scale_to_unit(Values&& values, int exponent) {
  values *= std::ldexp(T(1), -exponent / 2);
  values *= std::ldexp(T(1), -exponent - (-exponent / 2));
}

}  // namespace dphys::kernel
