// The device runtime of a build with CUDA: device memory through a block cache over cudaMalloc, copies
// through cudaMemcpy. All work goes to the legacy default stream, so kernels, copies and frees are ordered
// without explicit synchronisation, and a block freed to the cache can be handed out again at once.
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/block_cache.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys {

namespace {

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    fail("{}: CUDA error {} ({})", what, cudaGetErrorName(status), cudaGetErrorString(status));
}

}  // namespace

namespace {

// The device count, and why it is 0 when it is: a machine without a GPU and a driver too old for this
// runtime both end here, and only the reason tells them apart.
struct DeviceQuery {
  int count = 0;
  std::string reason;
};

const DeviceQuery& device_query() {
  static const DeviceQuery query = [] {
    DeviceQuery q;
    const cudaError_t status = cudaGetDeviceCount(&q.count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error: the process goes on without a device
      q.count = 0;
      q.reason = fmt::format("the CUDA runtime found no usable device: {} ({})", cudaGetErrorName(status),
                             cudaGetErrorString(status));
    } else if (q.count == 0) {
      q.reason = "the CUDA runtime found no device";
    }
    return q;
  }();
  return query;
}

}  // namespace

int cuda_device_count() { return device_query().count; }
bool cuda_available() { return cuda_device_count() > 0; }
std::string cuda_unavailable_reason() { return device_query().reason; }
bool cuda_is_emulated() { return false; }
void cuda_synchronize() {
  check_cuda(cudaDeviceSynchronize(), "cuda_synchronize");
  device_memory::raise_failed_checks();
}

namespace device_kernel {

// Declared in engine/cuda/launch.h, which only nvcc sees. Kernels run asynchronously, so a fault inside one
// surfaces at the next synchronising call, under that call's name. DPHYS_CUDA_SYNC=1 in the environment waits
// for every kernel instead, so that the fault is reported under the kernel's own name (for debugging; slow).
void check_launch(const char* kernel) {
  check_cuda(cudaGetLastError(), kernel);
  static const bool synchronous = [] {
    const char* value = std::getenv("DPHYS_CUDA_SYNC");
    return value != nullptr && *value != '\0' && std::strcmp(value, "0") != 0;
  }();
  if (synchronous) check_cuda(cudaDeviceSynchronize(), kernel);
}

}  // namespace device_kernel

namespace device_runtime {

void check_device(Device device) {
  DPHYS_CHECK(cuda_available(), "device {} is not available: {}", device.str(), cuda_unavailable_reason());
  // Kernels launch on the current device, which stays cuda:0; more devices need a device guard per op.
  DPHYS_CHECK(device.index == 0, "device {}: only cuda:0 is supported (this machine has {} CUDA devices)",
              device.str(), cuda_device_count());
}

namespace {

void* allocate_block(std::size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return p;
}

void free_block(void* data) { cudaFree(data); }

}  // namespace

BlockCache& block_cache() {
  static BlockCache* instance = new BlockCache(allocate_block, free_block, 512, std::size_t{16} << 30);
  return *instance;
}

void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {  // host clones must not need a driver
    std::memcpy(dst, src, bytes);
    return;
  }
  if (!dst_device.is_cpu()) check_device(dst_device);
  if (!src_device.is_cpu()) check_device(src_device);
  check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "copy between devices");
}

}  // namespace device_runtime

}  // namespace dphys
