#pragma once
// Memory on CUDA devices for tensor storage, with a cache of freed blocks like the host allocator's
// (engine/device_memory.cpp). The runtime, engine/cuda/runtime_cuda.cpp or engine/cuda/runtime_emulated.cpp
// without CUDA, supplies the blocks and the copies.
#include <cstddef>

#include "engine/device.h"

namespace dphys {
class BlockCache;
}

namespace dphys::device_memory {

void* allocate(std::size_t bytes, Device device);
void deallocate(void* data, std::size_t bytes, Device device);
// Copies `bytes` between any two devices, the host included; returns when the copy is done.
void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);
// Frees the cached blocks of every device; the bytes they hold.
void cache_clear();
std::size_t cache_bytes();
// Device bytes held by tensors (and scratch) now, and the most held at once since reset_peak(): what a
// device run needs, whatever the cache keeps on top.
std::size_t in_use_bytes();
std::size_t peak_bytes();
void reset_peak();

}  // namespace dphys::device_memory

namespace dphys::device_runtime {

// What each runtime defines for device_memory.cpp: the cache over its device allocations, and the check
// that a device exists and is supported (raises otherwise).
BlockCache& block_cache();
void check_device(Device device);

}  // namespace dphys::device_runtime
