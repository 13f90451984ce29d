// The emulated device's cuFFT: Eigen's FFT, unnormalised, with cuFFT's half-spectrum conventions, so that the
// device route of engine/fft.cpp (its own scaling, column transforms and Hermitian clean-up) is tested
// without a GPU.
#include <unsupported/Eigen/FFT>

#include <complex>
#include <vector>

#include "engine/device_kernels.h"

namespace dphys::device_kernel {

namespace {

using Complex = std::complex<double>;

Eigen::FFT<double> unscaled(bool half_spectrum) {
  Eigen::FFT<double> fft;
  fft.SetFlag(Eigen::FFT<double>::Unscaled);
  if (half_spectrum) fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
  return fft;
}

}  // namespace

void fft_r2c(std::int64_t rows, std::int64_t n, const void* in, void* out) {
  Eigen::FFT<double> fft = unscaled(true);
  const double* x = static_cast<const double*>(in);
  Complex* y = static_cast<Complex*>(out);
  const std::int64_t half = n / 2 + 1;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<Complex> spectrum;
    fft.fwd(spectrum, std::vector<double>(x + r * n, x + (r + 1) * n));
    std::copy(spectrum.begin(), spectrum.begin() + half, y + r * half);
  }
}

void fft_c2r(std::int64_t rows, std::int64_t n, void* in, void* out) {
  Eigen::FFT<double> fft = unscaled(true);
  Complex* x = static_cast<Complex*>(in);
  double* y = static_cast<double*>(out);
  const std::int64_t half = n / 2 + 1;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<double> signal;
    fft.inv(signal, std::vector<Complex>(x + r * half, x + (r + 1) * half), n);
    std::copy(signal.begin(), signal.end(), y + r * n);
    std::fill(x + r * half, x + (r + 1) * half, Complex(-7.0, -7.0));  // cuFFT's c2r may overwrite its input
  }
}

void fft_c2c(std::int64_t rows, std::int64_t n, void* data, bool inverse) {
  Eigen::FFT<double> fft = unscaled(false);
  Complex* x = static_cast<Complex*>(data);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::vector<Complex> row(x + r * n, x + (r + 1) * n);
    std::vector<Complex> result;
    if (inverse)
      fft.inv(result, row);
    else
      fft.fwd(result, row);
    std::copy(result.begin(), result.end(), x + r * n);
  }
}

}  // namespace dphys::device_kernel
