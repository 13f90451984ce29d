#pragma once
// Constant tensors that solvers and layers rebuild on every call from a few numbers (wavenumber tables,
// Fourier multipliers, interpolation weights), kept per device. On a GPU each copy from the host makes the
// host wait for the device, so a step that made its constants on the host and copied them over would stall
// it every time (tests/cuda_transfer_tests.cpp counts such copies).
#include <functional>
#include <string>

#include "engine/tensor.h"

namespace dphys {

// The tensor `make()` returns (built on the host), moved to `device` the first time `key` is asked for
// there, and kept. `key` names the constant and every number it depends on; callers
// format doubles exactly ({:a}), so that nearby values never share an entry. The tensor is shared: callers
// must not write to it. Thread-safe. At most 4096 constants are kept; beyond that the oldest is dropped
// (a caller still holding it keeps it alive).
Tensor cached_constant(const std::string& key, Device device, const std::function<Tensor()>& make);

}  // namespace dphys
