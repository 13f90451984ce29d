// Device kernels around the FFTs of engine/fft.cpp: complex products and the Hermitian clean-up before a
// real inverse. Complex numbers are pairs of reals here (the layout of std::complex and cuFFT's types).
#include "engine/cuda/indexing.h"

namespace dphys::device_kernel {

namespace {

struct Complex {
  double re, im;
};

template <class T>
void real_to_complex_typed(std::int64_t n, const T* x, T* out) {
  for_each("cast (real to complex)", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    out[2 * i] = x[i];
    out[2 * i + 1] = T(0);
  });
}

template <class T>
void conjugate_typed(std::int64_t n, const T* x, T* out) {
  for_each("conj", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    out[2 * i] = x[2 * i];
    out[2 * i + 1] = -x[2 * i + 1];
  });
}

}  // namespace

void conjugate(DType real, std::int64_t n, const void* x, void* out) {
  if (real == DType::f32) return conjugate_typed(n, static_cast<const float*>(x), static_cast<float*>(out));
  conjugate_typed(n, static_cast<const double*>(x), static_cast<double*>(out));
}

void real_to_complex(DType real, std::int64_t n, const void* x, void* out) {
  if (real == DType::f32)
    return real_to_complex_typed(n, static_cast<const float*>(x), static_cast<float*>(out));
  real_to_complex_typed(n, static_cast<const double*>(x), static_cast<double*>(out));
}

void drop_self_mirrored_imaginary(std::int64_t rows, std::int64_t half, std::int64_t n, void* spectrum) {
  Complex* s = static_cast<Complex*>(spectrum);
  const bool even = n % 2 == 0;
  for_each("drop_self_mirrored_imaginary", rows, [=] DPHYS_HOST_DEVICE(std::int64_t r) {
    s[r * half].im = 0.0;
    if (even) s[r * half + n / 2].im = 0.0;
  });
}

void complex_multiply(const Indexing<2>& index, const void* spectrum, const void* multiplier,
                      bool complex_multiplier, void* out) {
  const Complex* a = static_cast<const Complex*>(spectrum);
  Complex* o = static_cast<Complex*>(out);
  if (complex_multiplier) {
    const Complex* m = static_cast<const Complex*>(multiplier);
    return for_each("fourier_filter (product)", element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
      std::int64_t off[2];
      offsets_of(index, i, off);
      const Complex x = a[off[0]], y = m[off[1]];
      o[i] = Complex{x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re};
    });
  }
  const double* m = static_cast<const double*>(multiplier);
  for_each("fourier_filter (product)", element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    std::int64_t off[2];
    offsets_of(index, i, off);
    const Complex x = a[off[0]];
    o[i] = Complex{x.re * m[off[1]], x.im * m[off[1]]};
  });
}

}  // namespace dphys::device_kernel
