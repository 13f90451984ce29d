#pragma once
// Spectral operators on periodic grids, built on the differentiable fourier_filter. A 1-D field is
// [..., n] over a domain of `length`; a 2-D field is [..., ny, nx] over [0, length_y) × [0, length_x).
#include "engine/tensor.h"

namespace dphys {

// Angular wavenumbers 2π j / length of the rfft bins j = 0..n/2: shape [n/2 + 1], f64.
Tensor rfft_wavenumbers(std::int64_t n, double length);
// Angular wavenumbers in FFT order (0, 1, ..., -1) · 2π / length: shape [n], f64.
Tensor fft_wavenumbers(std::int64_t n, double length);
// |k|² on the 2-D rfft grid: shape [ny, nx/2 + 1], f64, on `device`. Made once per grid and device and
// shared (engine/constant_cache.h): do not write to it.
Tensor wavenumber_squared_2d(std::int64_t ny, std::int64_t nx, double length_y, double length_x,
                             Device device = Device::cpu());

// ∂u/∂x along the last axis, exact for resolved modes. The Nyquist mode has no well-defined real derivative
// and is set to zero, which keeps the operator real and exactly antisymmetric.
Tensor spectral_derivative(const Tensor& u, double length);
// Solves ∇²φ = f on a periodic 2-D grid. The Laplacian is singular on constants: the mean of f is ignored
// (as if f were projected to zero mean) and φ has zero mean.
Tensor spectral_poisson_2d(const Tensor& f, double length_y, double length_x);

}  // namespace dphys
