#include "engine/fft.h"

#include <unsupported/Eigen/FFT>
#include <vector>

#include "engine/device_dispatch.h"
#include "engine/elementwise.h"
#include "engine/layout.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

using Complex = std::complex<double>;

void check_real(const char* op, const Tensor& x, int dims) {
  DPHYS_CHECK(is_floating(x.dtype()) && !is_complex(x.dtype()) && x.dim() >= dims,
              "{}: expected a real tensor with at least {} axes, got {} of shape {}", op, dims,
              dtype_name(x.dtype()), shape_str(x.shape()));
  for (int d = x.dim() - dims; d < x.dim(); ++d)
    DPHYS_CHECK(x.shape()[d] > 0, "{}: empty axis {} in shape {}", op, d, shape_str(x.shape()));
}

void check_spectrum(const char* op, const Tensor& s, int dims, std::int64_t n) {
  DPHYS_CHECK(is_complex(s.dtype()) && s.dim() >= dims && n >= 1 && s.shape().back() == n / 2 + 1,
              "{}: spectrum of dtype {} and shape {} does not hold real signals of length {}", op,
              dtype_name(s.dtype()), shape_str(s.shape()), n);
}

// Calls f(fft, row) for `rows` rows, each thread with its own FFT object (Eigen caches plans inside it).
template <class F>
void for_rows(std::int64_t rows, std::int64_t work_per_row, bool half_spectrum, F f) {
#pragma omp parallel if (rows * work_per_row >= kParallelGrain)
  {
    Eigen::FFT<double> fft;
    if (half_spectrum) fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) f(fft, r);
  }
}

// Complex FFT along axis -2 of a [..., ny, m] complex tensor, in place.
void fft_columns(Tensor& s, bool inverse) {
  const std::int64_t m = s.shape().back(), ny = s.shape()[s.dim() - 2];
  // Nothing to transform, or the transform of length 1, the identity (on which Eigen's kissfft crashes).
  if (s.numel() == 0 || ny == 1) return;
  const std::int64_t images = s.numel() / (ny * m);
  Complex* data = s.data<Complex>();
  for_rows(images * m, ny * 8, false, [&](Eigen::FFT<double>& fft, std::int64_t r) {
    Complex* base = data + (r / m) * ny * m + r % m;
    std::vector<Complex> column(ny), result;
    for (std::int64_t i = 0; i < ny; ++i) column[i] = base[i * m];
    if (inverse)
      fft.inv(result, column);
    else
      fft.fwd(result, column);
    for (std::int64_t i = 0; i < ny; ++i) base[i * m] = result[i];
  });
}

DType real_of(DType complex) { return complex == DType::c64 ? DType::f32 : DType::f64; }
DType complex_of(DType real) { return real == DType::f32 ? DType::c64 : DType::c128; }

// ---- the device route: cuFFT in f64, unnormalised, so the 1/n of the inverses is applied here ----

void scale_complex(const Tensor& s, double factor) {
  device_kernel::scale(DType::f64, 2 * s.numel(), factor, device_address(s));
}

// [..., ny, m] -> [..., m, ny] and back: the column transforms run on contiguous rows.
Tensor swap_last_axes(const Tensor& s) {
  std::vector<int> perm(s.dim());
  for (int d = 0; d < s.dim(); ++d) perm[d] = d;
  std::swap(perm[s.dim() - 1], perm[s.dim() - 2]);
  return permute(s, perm);
}

Tensor device_rfft(const Tensor& x) {
  const std::int64_t n = x.shape().back(), half = n / 2 + 1, rows = x.numel() / n;
  Shape shape = x.shape();
  shape.back() = half;
  const Tensor xd = cast(x, DType::f64);
  Tensor out = Tensor::empty(shape, DType::c128, x.device());
  device_kernel::fft_r2c(rows, n, device_address(xd), device_address(out));
  return out;
}

// The inverse of device_rfft for a c128 spectrum, in f64; self-mirrored bins act through their real parts,
// as on the CPU.
Tensor device_irfft(const Tensor& spectrum, std::int64_t n) {
  const std::int64_t half = n / 2 + 1, rows = spectrum.numel() / half;
  Shape shape = spectrum.shape();
  shape.back() = n;
  const Tensor s = spectrum.clone();  // cuFFT's c2r overwrites its input
  device_kernel::drop_self_mirrored_imaginary(rows, half, n, device_address(s));
  Tensor out = Tensor::empty(shape, DType::f64, spectrum.device());
  device_kernel::fft_c2r(rows, n, device_address(s), device_address(out));
  device_kernel::scale(DType::f64, out.numel(), 1.0 / static_cast<double>(n), device_address(out));
  return out;
}

// Complex transform along axis -2 of a c128 [..., ny, m] spectrum (the inverse scaled by 1/ny).
Tensor device_fft_columns(const Tensor& s, bool inverse) {
  const std::int64_t ny = s.shape()[s.dim() - 2];
  const Tensor columns = swap_last_axes(s);
  device_kernel::fft_c2c(columns.numel() / ny, ny, device_address(columns), inverse);
  if (inverse) scale_complex(columns, 1.0 / static_cast<double>(ny));
  return swap_last_axes(columns);
}

}  // namespace

Tensor rfft(const Tensor& x) {
  check_real("rfft", x, 1);
  if (!x.device().is_cpu()) return cast(device_rfft(x), complex_of(x.dtype()));
  const std::int64_t n = x.shape().back(), half = n / 2 + 1, rows = x.numel() / n;
  Shape shape = x.shape();
  shape.back() = half;
  Tensor out = Tensor::empty(shape, DType::c128, x.device());
  const Tensor xd = cast(x, DType::f64);
  for_rows(rows, n * 8, true, [&](Eigen::FFT<double>& fft, std::int64_t r) {
    const std::vector<double> signal(xd.data<double>() + r * n, xd.data<double>() + (r + 1) * n);
    std::vector<Complex> spectrum{Complex(signal[0], 0.0)};  // length 1: the identity (kissfft crashes on it)
    if (n > 1) fft.fwd(spectrum, signal);
    std::copy(spectrum.begin(), spectrum.begin() + half, out.data<Complex>() + r * half);
  });
  return cast(out, complex_of(x.dtype()));
}

Tensor irfft(const Tensor& spectrum, std::int64_t n) {
  check_spectrum("irfft", spectrum, 1, n);
  if (!spectrum.device().is_cpu())
    return cast(device_irfft(cast(spectrum, DType::c128), n), real_of(spectrum.dtype()));
  const std::int64_t half = n / 2 + 1, rows = spectrum.numel() / half;
  Shape shape = spectrum.shape();
  shape.back() = n;
  Tensor out = Tensor::empty(shape, DType::f64, spectrum.device());
  const Tensor s = cast(spectrum, DType::c128);
  for_rows(rows, n * 8, true, [&](Eigen::FFT<double>& fft, std::int64_t r) {
    const std::vector<Complex> bins(s.data<Complex>() + r * half, s.data<Complex>() + (r + 1) * half);
    std::vector<double> signal{bins[0].real()};  // length 1: the identity (kissfft crashes on it)
    if (n > 1) fft.inv(signal, bins, n);
    std::copy(signal.begin(), signal.end(), out.data<double>() + r * n);
  });
  return cast(out, real_of(spectrum.dtype()));
}

Tensor rfft2(const Tensor& x) {
  check_real("rfft2", x, 2);
  if (!x.device().is_cpu()) return cast(device_fft_columns(device_rfft(x), false), complex_of(x.dtype()));
  Tensor s = cast(rfft(x), DType::c128);
  fft_columns(s, false);
  return cast(s, complex_of(x.dtype()));
}

Tensor irfft2(const Tensor& spectrum, std::int64_t nx) {
  check_spectrum("irfft2", spectrum, 2, nx);
  if (!spectrum.device().is_cpu())
    return cast(device_irfft(device_fft_columns(cast(spectrum, DType::c128), true), nx),
                real_of(spectrum.dtype()));
  Tensor s = cast(spectrum, DType::c128);
  if (s.storage() == spectrum.storage())
    s = s.clone();  // cast returned the caller's tensor: transform a copy
  fft_columns(s, true);
  return irfft(cast(s, spectrum.dtype()), nx);
}

Tensor fourier_filter(const Tensor& x, const Tensor& multiplier, int dims) {
  DPHYS_CHECK(dims == 1 || dims == 2, "fourier_filter: dims must be 1 or 2, got {}", dims);
  check_real("fourier_filter", x, dims);
  const std::int64_t n = x.shape().back();
  if (!x.device().is_cpu()) {
    // In f64 throughout; a multiplier made on the CPU (a constant of the solver) is moved over.
    const Tensor spectrum = dims == 1 ? device_rfft(x) : device_fft_columns(device_rfft(x), false);
    const Tensor m =
        cast(multiplier.to(x.device()), is_complex(multiplier.dtype()) ? DType::c128 : DType::f64);
    DPHYS_CHECK(broadcast_shapes(spectrum.shape(), m.shape(), "fourier_filter") == spectrum.shape(),
                "fourier_filter: multiplier of shape {} for a spectrum of shape {}",
                shape_str(multiplier.shape()), shape_str(spectrum.shape()));
    Tensor product = Tensor::empty(spectrum.shape(), DType::c128, x.device());
    device_kernel::complex_multiply(
        device_indexing<2>(
            "fourier_filter", spectrum.shape(),
            {contiguous_strides(spectrum.shape()), broadcast_strides(m.shape(), spectrum.shape())}),
        device_address(spectrum), device_address(m), is_complex(m.dtype()), device_address(product));
    const Tensor filtered =
        dims == 1 ? device_irfft(product, n) : device_irfft(device_fft_columns(product, true), n);
    return cast(filtered, x.dtype());
  }
  const Tensor spectrum = dims == 1 ? rfft(x) : rfft2(x);
  const Tensor m = is_complex(multiplier.dtype()) ? multiplier : cast(multiplier, DType::f64);
  const Tensor filtered = cast(binary(BinaryOp::mul, spectrum, m), spectrum.dtype());
  DPHYS_CHECK(filtered.shape() == spectrum.shape(),
              "fourier_filter: multiplier of shape {} for a spectrum of shape {}",
              shape_str(multiplier.shape()), shape_str(spectrum.shape()));
  return dims == 1 ? irfft(filtered, n) : irfft2(filtered, n);
}

}  // namespace dphys::kernel
