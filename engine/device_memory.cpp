#include "engine/device_memory.h"

#include "engine/block_cache.h"

namespace dphys::device_memory {

void* allocate(std::size_t bytes, Device device) {
  device_runtime::check_device(device);
  return device_runtime::block_cache().allocate(bytes);
}

void deallocate(void* data, std::size_t bytes, Device) {
  device_runtime::block_cache().deallocate(data, bytes);
}

void cache_clear() { device_runtime::block_cache().clear(); }
std::size_t cache_bytes() { return device_runtime::block_cache().cached_bytes(); }
std::size_t in_use_bytes() { return device_runtime::block_cache().in_use_bytes(); }
std::size_t peak_bytes() { return device_runtime::block_cache().peak_bytes(); }
void reset_peak() { device_runtime::block_cache().reset_peak(); }

}  // namespace dphys::device_memory
