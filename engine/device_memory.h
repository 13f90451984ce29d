#pragma once
// Memory on CUDA devices for tensor storage, with a cache of freed blocks like the host allocator's.
// Implemented by engine/cuda/runtime_cuda.cpp, or by engine/cuda/runtime_emulated.cpp without CUDA.
#include <cstddef>

#include "engine/device.h"

namespace dphys::device_memory {

void* allocate(std::size_t bytes, Device device);
void deallocate(void* data, std::size_t bytes, Device device);
// Copies `bytes` between any two devices, the host included; returns when the copy is done.
void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);
// Frees the cached blocks of every device; the bytes they hold.
void cache_clear();
std::size_t cache_bytes();

}  // namespace dphys::device_memory
