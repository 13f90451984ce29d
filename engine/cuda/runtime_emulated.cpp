// The device runtime of a build without CUDA. Normally it reports no device, so a tensor on "cuda" is refused
// when it is created. Built with DPHYS_CUDA_EMULATION it reports one device, cuda:0, whose memory comes from
// the host and whose kernels (engine/cuda/*.cu compiled as C++) run on the host: CI tests the device kernels'
// indexing and the dispatch to them without a GPU.
#include <cstdlib>
#include <cstring>

#include "engine/block_cache.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys {

int cuda_device_count() { return DPHYS_CUDA_EMULATION ? 1 : 0; }
bool cuda_available() { return cuda_device_count() > 0; }
std::string cuda_unavailable_reason() {
  return cuda_available() ? "" : "this build has no CUDA backend (configure it with nvcc on PATH)";
}
bool cuda_is_emulated() { return DPHYS_CUDA_EMULATION; }
void cuda_synchronize() { device_memory::raise_failed_checks(); }

namespace device_runtime {

void check_device(Device device) {
  DPHYS_CHECK(device.index >= 0 && device.index < cuda_device_count(), "device {} is not available: {}",
              device.str(),
              DPHYS_CUDA_EMULATION ? "the emulated backend has only cuda:0" : cuda_unavailable_reason());
}

namespace {

void* allocate_block(std::size_t bytes) { return std::aligned_alloc(256, bytes); }

}  // namespace

// Separate from the host allocator's cache, so that a test can tell device blocks from host blocks.
BlockCache& block_cache() {
  static BlockCache* instance = new BlockCache(allocate_block, std::free, 256, std::size_t{1} << 30);
  return *instance;
}

void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (!dst_device.is_cpu()) check_device(dst_device);
  if (!src_device.is_cpu()) check_device(src_device);
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

}  // namespace device_runtime

}  // namespace dphys
