#include "engine/constant_cache.h"

#include <deque>
#include <map>
#include <mutex>
#include <tuple>

namespace dphys {

namespace {

// Enough for every table of a training loop; a program that keeps making new shapes drops the oldest.
constexpr std::size_t kMaxConstants = 4096;

}  // namespace

Tensor cached_constant(const std::string& key, Device device, const std::function<Tensor()>& make) {
  using Key = std::tuple<std::string, DeviceType, int>;
  static std::mutex mutex;
  // Never destroyed: device tensors must not be freed after the device runtime has shut down at exit.
  static auto* constants = new std::map<Key, Tensor>();
  static auto* insertion_order = new std::deque<Key>();
  Key entry{key, device.type, device.index};
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (const auto it = constants->find(entry); it != constants->end()) return it->second;
  }
  // Built outside the lock: make() may ask for other constants. Two threads racing here build the same
  // value, and the first one stored wins.
  const Tensor value = make().to(device);
  const std::lock_guard<std::mutex> lock(mutex);
  const auto [it, inserted] = constants->emplace(entry, value);
  if (inserted) {
    insertion_order->push_back(std::move(entry));
    if (insertion_order->size() > kMaxConstants) {
      constants->erase(insertion_order->front());
      insertion_order->pop_front();
    }
  }
  return it->second;
}

}  // namespace dphys
