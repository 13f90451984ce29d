#pragma once
// Differentiable spectral operators on real signals (periodic domains).
#include "engine/tensor.h"

namespace dphys {

// y = irfft(m · rfft(x)) over the last `dims` (1 or 2) axes, m of shape [n/2 + 1] or [ny, nx/2 + 1], real or
// complex, shared by all leading axes (see kernel::fourier_filter). Linear in x; its adjoint is the filter
// with conj(m), which is also the VJP. m is a constant (no gradient).
Tensor fourier_filter(const Tensor& x, const Tensor& multiplier, int dims);

}  // namespace dphys
