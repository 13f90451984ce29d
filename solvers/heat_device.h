#pragma once
// The SIP heat experiment's kernels (solvers/cuda/heat.cu): the damped inverse's per-bin scaling and the
// source fields. Plain pointers only, for nvcc; heat.cpp and heat_sources.cpp put the arrays on the device.
#include <cstdint>

#include "solvers/heat_damped_inverse_bin.h"

namespace dphys::device_kernel {

// spectrum: [batch · bins] complex values, interleaved re, im, scaled in place.
void damped_inverse(const damped_inverse::Bins& bins, std::int64_t batch, double* spectrum);

// out [batch, n, n] from draws [batch, heat_sources::kDraws] (solvers/heat_sources.h), one thread per cell.
void sip_heat_sources(std::int64_t batch, std::int64_t n, const double* draws, double* out);

}  // namespace dphys::device_kernel
