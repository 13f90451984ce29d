// The SIP damped heat inverse's per-bin scaling: one thread per bin of every example.
#include "engine/cuda/launch.h"
#include "solvers/heat_device.h"

namespace dphys::device_kernel {

void damped_inverse(const damped_inverse::Bins& bins, std::int64_t batch, double* spectrum) {
  const damped_inverse::Bins b = bins;
  for_each("heat_damped_inverse", batch * b.bins,
           [=] DPHYS_HOST_DEVICE(std::int64_t i) { damped_inverse::apply(b, i, spectrum); });
}

}  // namespace dphys::device_kernel
