#include "engine/storage.h"

#include "engine/allocator.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys {

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  data_ = device.is_cpu() ? host_allocate(bytes) : device_memory::allocate(bytes, device);
}

Storage::~Storage() {
  if (device_.is_cpu())
    host_deallocate(data_, bytes_);
  else
    device_memory::deallocate(data_, bytes_, device_);
}

}  // namespace dphys
