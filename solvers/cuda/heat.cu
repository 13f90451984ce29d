// The SIP heat experiment's kernels: the damped inverse's per-bin scaling (one thread per bin of every
// example) and the source fields (one thread per cell).
#include "engine/cuda/launch.h"
#include "solvers/heat_device.h"
#include "solvers/heat_sources_box.h"

namespace dphys::device_kernel {

void damped_inverse(const damped_inverse::Bins& bins, std::int64_t batch, double* spectrum) {
  const damped_inverse::Bins b = bins;
  for_each("heat_damped_inverse", batch * b.bins,
           [=] DPHYS_HOST_DEVICE(std::int64_t i) { damped_inverse::apply(b, i, spectrum); });
}

void sip_heat_sources(std::int64_t batch, std::int64_t n, const double* draws, double* out) {
  for_each("sip_heat_sources", batch * n * n, [=] DPHYS_HOST_DEVICE(std::int64_t idx) {
    const std::int64_t b = idx / (n * n), i = (idx / n) % n, k = idx % n;
    out[idx] = heat_sources::cell(draws + b * heat_sources::kDraws, static_cast<double>(n), i, k);
  });
}

}  // namespace dphys::device_kernel
