#include "solvers/heat_sources.h"

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/parallel.h"
#include "solvers/heat_device.h"
#include "solvers/heat_sources_box.h"

namespace dphys {

Tensor sip_heat_sources(std::int64_t batch, std::int64_t n, Generator& gen, Device device) {
  DPHYS_CHECK(
      batch >= 0 && n >= 20,
      "sip_heat_sources: need batch >= 0 and n >= 20 (a box reaches up to 10 cells from its centre), got "
      "batch {} and n {}",
      batch, n);
  const Tensor draws = uniform({batch, heat_sources::kDraws}, 0.0, 1.0, gen, DType::f64, device);
  Tensor x = zeros({batch, n, n}, DType::f64, device);
  const double* d = device_data<double>(draws);
  double* out = device_data<double>(x);
  if (!device.is_cpu()) {
    device_kernel::sip_heat_sources(batch, n, d, out);
    return x;
  }
  // Box by box, skipping the rows a box misses: the same sums as heat_sources::cell, in the same order.
  parallel_for(batch, n * n * heat_sources::kCandidates, [&](std::int64_t b) {
    const double* example = d + b * heat_sources::kDraws;
    double* field = out + b * n * n;
    for (int j = 0; j < heat_sources::kCandidates; ++j) {
      const heat_sources::Box box = heat_sources::box(example, j, static_cast<double>(n));
      if (box.strength == 0.0) continue;
      for (std::int64_t i = 0; i < n; ++i) {
        const double wy = heat_sources::overlap(i, box.y0, box.y1);
        if (wy == 0.0) continue;
        for (std::int64_t k = 0; k < n; ++k)
          field[i * n + k] += box.strength * wy * heat_sources::overlap(k, box.x0, box.x1);
      }
    }
  });
  return x;
}

}  // namespace dphys
