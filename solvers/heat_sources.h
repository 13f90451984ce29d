#pragma once
// The sources x* of the SIP heat experiment (../shared/experiments/sip.md §2.5.3), drawn where they are
// used: on a GPU, a training loop then copies no data from the host.
#include "engine/random.h"
#include "engine/tensor.h"

namespace dphys {

// f64 [batch, n, n] on `device`: per example int(4 + 7U) of 10 candidate boxes get strength U[0, 1); centres
// 0.1n + 0.8n·U, half-sizes 10·U cells, each box moved inside the domain; antialiased (each cell takes the
// fraction of its area inside the box); overlapping boxes add. Every device draws the same uniforms.
Tensor sip_heat_sources(std::int64_t batch, std::int64_t n, Generator& gen, Device device = Device::cpu());

}  // namespace dphys
