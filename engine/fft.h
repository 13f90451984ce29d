#pragma once
// FFTs on the CPU (Eigen's FFT module) with NumPy's conventions: unnormalised forward, 1/n inverse.
// Transforms run in double precision; f32/c64 inputs give c64/f32 outputs.
#include "engine/tensor.h"

namespace dphys::kernel {

// Over the last axis: [..., n] real -> [..., n/2 + 1] complex.
Tensor rfft(const Tensor& x);
// The inverse of rfft for real signals of length n: [..., n/2 + 1] complex -> [..., n] real.
Tensor irfft(const Tensor& spectrum, std::int64_t n);
// Over the last two axes: [..., ny, nx] real -> [..., ny, nx/2 + 1] complex (rows in FFT order).
Tensor rfft2(const Tensor& x);
Tensor irfft2(const Tensor& spectrum, std::int64_t nx);

// y = irfft(m · rfft(x)) over the last `dims` (1 or 2) axes of a real x; m (real or complex) broadcasts
// against the spectrum, e.g. [n/2 + 1] or [ny, nx/2 + 1] for one multiplier shared by the batch. The result
// is the real operator of a Hermitian symmetric multiplier: self-mirrored bins (zero, Nyquist) act through
// their real part.
Tensor fourier_filter(const Tensor& x, const Tensor& multiplier, int dims);

}  // namespace dphys::kernel
