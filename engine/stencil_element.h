#pragma once
// Per-cell parts of the stencils shared by the CPU loops (engine/stencil.cpp) and the device kernels
// (engine/cuda/stencil.cu).
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::kernel {

// `acc` plus the horizontal fluxes of the weighted Poisson operator at cell j of a row `line` (c = line[j]):
// face weights w_left[j] (left face) and w_left[j + 1] (right face), cx = 1/dx². Past a non-periodic edge the
// neighbour is a Dirichlet ghost of 0 (ghost_flux) or a Neumann wall with no flux.
template <class T>
DPHYS_HOST_DEVICE T add_weighted_poisson_horizontal(T acc, std::int64_t j, std::int64_t nx, bool periodic,
                                                    bool ghost_flux, T cx, const T* w_left, const T* line,
                                                    T c) {
  if (j > 0 || periodic)
    acc += cx * w_left[j] * (c - line[j > 0 ? j - 1 : nx - 1]);
  else if (ghost_flux)
    acc += cx * w_left[j] * c;
  const std::int64_t right = j + 1;
  if (right < nx || periodic)
    acc += cx * w_left[right < nx ? right : 0] * (c - line[right < nx ? right : 0]);
  else if (ghost_flux)
    acc += cx * w_left[right] * c;
  return acc;
}

}  // namespace dphys::kernel
