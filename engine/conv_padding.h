#pragma once
// Where a padded convolution reads, shared by the CPU loops (engine/conv.cpp) and the device kernels
// (engine/cuda/conv.cu).
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::kernel {

// The image index read at padded position v along an axis of n elements with `pad` elements of padding before
// it: v − pad inside the image; outside it, that index wrapped around when `periodic`, else −1 (a zero).
DPHYS_HOST_DEVICE inline std::int64_t padded_source(std::int64_t v, std::int64_t pad, std::int64_t n,
                                                    bool periodic) {
  std::int64_t u = v - pad;
  if (u >= 0 && u < n) return u;
  if (!periodic) return -1;
  u %= n;
  return u < 0 ? u + n : u;
}

}  // namespace dphys::kernel
