#pragma once
// One Fourier bin of the SIP damped heat inverse (heat.h, sip.md §2.5.2), shared by the CPU loop in heat.cpp
// and the device kernel in solvers/cuda/heat.cu, so that both devices make the same per-bin decisions (up to
// round-off in exp and hypot, which matters only for a p within an ulp of a threshold).
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::damped_inverse {

// The bin's parameters: ℓ = ν·t·|k|² per bin (`gain_exponents`, bins values) and the noise level σ_n of each
// example (`noise_levels`, noise × the example's residual norm).
struct Bins {
  std::int64_t bins = 0;
  const double* gain_exponents = nullptr;
  const double* noise_levels = nullptr;
  double signal_scale = 0;
};

// Scales bin i of the batch's spectrum (interleaved re, im; example i / bins) in place: by e^{ℓ·a} with
// a = 2(p − 1/2) where p, the probability that the bin holds signal rather than noise (two Gaussians of
// widths σ_s = signal_scale·e^{−ℓ} and σ_n), is decided (p ≤ 0.5 or p ≥ 0.68), and a = 0 in between: invert
// where p is high, diffuse once more where it is low, leave the undecided band alone.
DPHYS_HOST_DEVICE inline void apply(const Bins& b, std::int64_t i, double* spectrum) {
  const double gain_exponent = b.gain_exponents[i % b.bins];
  const double sigma_s = b.signal_scale * std::exp(-gain_exponent);
  const double sigma_n = b.noise_levels[i / b.bins];
  double* z = spectrum + 2 * i;
  const double amplitude = std::hypot(z[0], z[1]);
  const double signal_ratio = amplitude / sigma_s, noise_ratio = amplitude / sigma_n;
  double likelihood_signal = 0.5 * std::exp(-0.5 * signal_ratio * signal_ratio);
  if (!std::isfinite(likelihood_signal)) likelihood_signal = 0.0;
  const double likelihood_noise = 0.5 * std::exp(-0.5 * noise_ratio * noise_ratio);
  const double total = likelihood_signal + likelihood_noise;
  const double p = total > 0 ? likelihood_signal / total : 0.0;
  const double action = (p <= 0.5 || p >= 0.68) ? 2 * (p - 0.5) : 0.0;
  const double factor = std::exp(gain_exponent * action);
  z[0] *= factor;
  z[1] *= factor;
}

}  // namespace dphys::damped_inverse
