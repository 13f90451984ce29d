#pragma once
// The SIP damped heat inverse's per-bin scaling on a device (solvers/cuda/heat.cu), one thread per bin of the
// batch's spectrum. Plain pointers only, for nvcc; heat.cpp puts the arrays on the device.
#include <cstdint>

#include "solvers/heat_damped_inverse_bin.h"

namespace dphys::device_kernel {

// spectrum: [batch · bins] complex values, interleaved re, im, scaled in place.
void damped_inverse(const damped_inverse::Bins& bins, std::int64_t batch, double* spectrum);

}  // namespace dphys::device_kernel
