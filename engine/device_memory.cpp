#include "engine/device_memory.h"

#include <array>
#include <atomic>
#include <mutex>
#include <utility>

#include "engine/block_cache.h"
#include "engine/error.h"

namespace dphys::device_memory {

namespace {

// Atomic: HIG's per-example Jacobian copies from several host threads.
struct TransferCounters {
  std::atomic<std::int64_t> host_to_device{0}, device_to_host{0};
  std::atomic<std::size_t> host_to_device_bytes{0}, device_to_host_bytes{0};
};

TransferCounters& counters() {
  static TransferCounters instance;
  return instance;
}

// The registered checks: the device slot their kernels write, and the messages of the most recent ones.
struct Checks {
  std::mutex mutex;
  std::int64_t* slot = nullptr;  // on cuda:0, allocated on first use and never freed
  std::int64_t next_id = 1;
  bool pending = false;  // checks were registered since the slot was last read
  std::array<std::pair<std::int64_t, std::string>, 1024> recent;
};

Checks& checks() {
  static auto* instance = new Checks();  // never destroyed: a check may be read during exit
  return *instance;
}

}  // namespace

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

void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes > 0 && dst_device.is_cpu() != src_device.is_cpu()) {
    TransferCounters& c = counters();
    if (dst_device.is_cpu()) {
      ++c.device_to_host;
      c.device_to_host_bytes += bytes;
    } else {
      ++c.host_to_device;
      c.host_to_device_bytes += bytes;
    }
  }
  device_runtime::copy(dst, dst_device, src, src_device, bytes);
  if (dst_device.is_cpu() && !src_device.is_cpu()) raise_failed_checks();
}

KernelCheck deferred_check(Device device, std::string message) {
  Checks& c = checks();
  const std::lock_guard<std::mutex> lock(c.mutex);
  if (c.slot == nullptr) {
    c.slot = static_cast<std::int64_t*>(allocate(sizeof(std::int64_t), device));
    const std::int64_t zero = 0;
    device_runtime::copy(c.slot, device, &zero, Device::cpu(), sizeof zero);
  }
  const std::int64_t id = c.next_id++;
  c.recent[id % c.recent.size()] = {id, std::move(message)};
  c.pending = true;
  return {c.slot, id};
}

void raise_failed_checks() {
  Checks& c = checks();
  std::string message;
  {
    const std::lock_guard<std::mutex> lock(c.mutex);
    if (!c.pending) return;
    c.pending = false;
    std::int64_t id = 0;
    device_runtime::copy(&id, Device::cpu(), c.slot, Device::cuda(), sizeof id);
    if (id == 0) return;
    const std::int64_t zero = 0;
    device_runtime::copy(c.slot, Device::cuda(), &zero, Device::cpu(), sizeof zero);
    const auto& [recorded, text] = c.recent[id % c.recent.size()];
    message = recorded == id ? text : "a check on the device failed (too long ago to name it)";
  }
  fail("{} (found on the device; raised at the next read from it)", message);
}

TransferCounts transfers() {
  const TransferCounters& c = counters();
  return {c.host_to_device.load(), c.device_to_host.load(), c.host_to_device_bytes.load(),
          c.device_to_host_bytes.load()};
}

void reset_transfers() {
  TransferCounters& c = counters();
  c.host_to_device = 0;
  c.device_to_host = 0;
  c.host_to_device_bytes = 0;
  c.device_to_host_bytes = 0;
}

}  // namespace dphys::device_memory
