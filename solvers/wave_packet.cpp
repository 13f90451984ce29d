#include "solvers/wave_packet.h"

#include "autodiff/ops.h"

namespace dphys {

Tensor wave_packet(const Tensor& t0, const WavePacketConfig& config) {
  DPHYS_CHECK(config.samples >= 1 && config.width > 0,
              "wave_packet: invalid configuration samples={} width={}", config.samples, config.width);
  DPHYS_CHECK(t0.dim() == 1, "wave_packet: t0 must be [B], got shape {}", shape_str(t0.shape()));
  DPHYS_CHECK(t0.dtype() == DType::f32 || t0.dtype() == DType::f64,
              "wave_packet: t0 must be f32 or f64, got {}", dtype_name(t0.dtype()));
  const Tensor t =
      arange(0, static_cast<double>(config.samples), 1, t0.dtype(), t0.device()) + config.first_time;
  const Tensor shift = unsqueeze(t, 0) - unsqueeze(t0, 1);
  return config.amplitude * sin(config.frequency * shift) *
         exp(square(shift) * (-0.5 / (config.width * config.width)));
}

}  // namespace dphys
