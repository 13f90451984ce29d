#include "engine/storage.h"

#include <cstdlib>
#include <new>

#include "engine/error.h"

namespace dphys {

namespace {
// Cache-line alignment lets the compiler vectorise the kernels' inner loops without peeling.
constexpr std::size_t kAlignment = 64;
}  // namespace

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  DPHYS_CHECK(device.is_cpu(), "Storage: device {} is not available (this build has only the CPU backend)",
              device.str());
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

}  // namespace dphys
