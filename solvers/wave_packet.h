#pragma once
// The wave-packet signal model of the JPO and SIP papers (../shared/experiments/jpo.md §6.1, the waveform
// taken from sip.md §2.7): W(t; t0) = A·sin(f·(t − t0))·exp(−(t − t0)²/(2σ²)), sampled at the integer times
// t = first_time, first_time + 1, …. Times are in samples; A, f (radians per sample) and σ (samples) follow
// the papers. JPO samples t = 1..256 (the paper's axis, the default), SIP t = 0..255 (set first_time = 0).
#include <cstdint>

#include "engine/tensor.h"

namespace dphys {

struct WavePacketConfig {
  std::int64_t samples = 256;
  double first_time = 1.0;
  double amplitude = 1.0;  // A
  double frequency = 0.7;  // f
  double width = 20.0;     // σ
};

// t0 [B] (f32 or f64) -> W(t; t0) [B, samples], differentiable in t0.
Tensor wave_packet(const Tensor& t0, const WavePacketConfig& config = {});

}  // namespace dphys
