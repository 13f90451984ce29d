#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/device.h"

namespace dphys {

// A block of device memory shared by every tensor that views it. The version counter is bumped by each
// in-place write, so autodiff can tell when a tensor it saved for backward has been overwritten.
class Storage {
 public:
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
  std::uint64_t version_ = 0;
};

}  // namespace dphys
