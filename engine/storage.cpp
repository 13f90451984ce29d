#include "engine/storage.h"

#include "engine/allocator.h"
#include "engine/error.h"

namespace dphys {

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  DPHYS_CHECK(device.is_cpu(), "Storage: device {} is not available (this build has only the CPU backend)",
              device.str());
  data_ = host_allocate(bytes);
}

Storage::~Storage() { host_deallocate(data_, bytes_); }

}  // namespace dphys
