#include "engine/allocator.h"

#include <cstdlib>

#include "engine/block_cache.h"

namespace dphys {

namespace {

// Cache-line alignment lets the compiler vectorise the kernels' inner loops without peeling.
constexpr std::size_t kAlignment = 64;
// At most this many bytes are held for reuse; blocks freed beyond it go back to the system. A U-net training
// step at batch 128 frees about 2 GiB of activations per step.
constexpr std::size_t kCacheLimit = std::size_t{4} << 30;

void* aligned_allocate(std::size_t bytes) { return std::aligned_alloc(kAlignment, bytes); }

// Leaked on purpose: tensors in static objects may be freed after a function-local static is destroyed.
BlockCache& cache() {
  static BlockCache* instance = new BlockCache(aligned_allocate, std::free, kAlignment, kCacheLimit);
  return *instance;
}

}  // namespace

void* host_allocate(std::size_t bytes) { return cache().allocate(bytes); }
void host_deallocate(void* data, std::size_t bytes) { cache().deallocate(data, bytes); }
void host_cache_clear() { cache().clear(); }
std::size_t host_cache_bytes() { return cache().cached_bytes(); }

}  // namespace dphys
