#pragma once
// Host memory for tensor storage, with a cache of freed blocks keyed by size. Training loops allocate the
// same sizes every step; reusing a block that is still in cache avoids both malloc's bookkeeping and touching
// cold pages (a chain of 64×64 adds ran 2.5× slower with interleaved autodiff allocations before this).
#include <cstddef>

namespace dphys {

void* host_allocate(std::size_t bytes);
void host_deallocate(void* data, std::size_t bytes);
// Frees every cached block (tests, or before a phase with different sizes).
void host_cache_clear();
std::size_t host_cache_bytes();

}  // namespace dphys
