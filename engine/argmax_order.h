#pragma once
// The order argmax takes, shared by the CPU loop (engine/reduce.cpp) and the device kernel
// (engine/cuda/reduce.cu).
#include "engine/host_device.h"

namespace dphys::kernel {

// Whether `candidate` replaces `best`: a larger value, or the first NaN (NumPy's and PyTorch's choice, and
// max's, which returns NaN; a plain > skipped NaN, so argmax pointed at a value max did not return).
template <class T>
DPHYS_HOST_DEVICE inline bool argmax_beats(T candidate, T best) {
  return candidate > best || (candidate != candidate && best == best);
}

}  // namespace dphys::kernel
