#pragma once
// Memory on CUDA devices for tensor storage, with a cache of freed blocks like the host allocator's
// (engine/device_memory.cpp). The runtime, engine/cuda/runtime_cuda.cpp or engine/cuda/runtime_emulated.cpp
// without CUDA, supplies the blocks and the copies.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/device.h"
#include "engine/kernel_check.h"

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

// Copies between the host and a device since reset_transfers(). On a GPU each such copy makes the host wait
// for the device, which then idles until the host has queued new work; so a training step should make none
// beyond the scalars it reports (tests/cuda_transfer_tests.cpp counts them).
struct TransferCounts {
  std::int64_t host_to_device = 0, device_to_host = 0;
  std::size_t host_to_device_bytes = 0, device_to_host_bytes = 0;
};
TransferCounts transfers();
void reset_transfers();

// Checks inside device kernels that do not make the host wait (engine/kernel_check.h): registers one whose
// failure raises `message`. The next copy from a device to the host, which waits for the device anyway,
// reads the checks' slot and raises the failed check's message: the error surfaces at the next read of any
// device result rather than at the op's call.
KernelCheck deferred_check(Device device, std::string message);
// Raises the message of the first check failed since the last call (cuda_synchronize calls it too).
void raise_failed_checks();

}  // namespace dphys::device_memory

namespace dphys::device_runtime {

// What each runtime defines for device_memory.cpp: the cache over its device allocations, the check that a
// device exists and is supported (raises otherwise), and the copy itself.
BlockCache& block_cache();
void check_device(Device device);
void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);

}  // namespace dphys::device_runtime
