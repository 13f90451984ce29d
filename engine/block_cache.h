#pragma once
// A cache of freed memory blocks keyed by their rounded size, for host and device allocators alike. Training
// loops allocate the same sizes every step; handing back a cached block avoids malloc's bookkeeping and cold
// pages on the host, and cudaMalloc's implicit synchronisation on a GPU.
#include <cstddef>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace dphys {

class BlockCache {
 public:
  using AllocateFn = void* (*)(std::size_t bytes);  // returns nullptr when out of memory
  using FreeFn = void (*)(void* data);

  BlockCache(AllocateFn allocate, FreeFn free, std::size_t alignment, std::size_t limit)
      : allocate_(allocate), free_(free), alignment_(alignment), limit_(limit) {}

  void* allocate(std::size_t bytes) {
    const std::size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_blocks_.find(size);
      if (it != free_blocks_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= size;
        count_in_use(size);
        return p;
      }
    }
    void* p = allocate_(size);
    if (p == nullptr) {
      clear();  // memory held in the cache may be what is missing
      p = allocate_(size);
      if (p == nullptr) throw std::bad_alloc();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    count_in_use(size);
    return p;
  }

  void deallocate(void* data, std::size_t bytes) {
    if (data == nullptr) return;
    const std::size_t size = rounded(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ -= size;
    if (cached_ + size > limit_) {  // full: this block goes back to the system, the cache stays warm
      free_(data);
      return;
    }
    free_blocks_[size].push_back(data);
    cached_ += size;
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_blocks_)
      for (void* p : blocks) free_(p);
    free_blocks_.clear();
    cached_ = 0;
  }

  std::size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

  // Bytes handed out and not yet returned (rounded sizes), and their largest value since reset_peak().
  std::size_t in_use_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
  }
  std::size_t peak_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_ = in_use_;
  }

 private:
  void count_in_use(std::size_t size) {
    in_use_ += size;
    if (in_use_ > peak_) peak_ = in_use_;
  }

  std::size_t rounded(std::size_t bytes) const {
    const std::size_t n = (bytes + alignment_ - 1) / alignment_ * alignment_;
    return n == 0 ? alignment_ : n;
  }

  AllocateFn allocate_;
  FreeFn free_;
  std::size_t alignment_, limit_;
  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;
  std::size_t cached_ = 0, in_use_ = 0, peak_ = 0;
};

}  // namespace dphys
