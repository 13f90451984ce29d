#pragma once
// A check inside a device kernel that does not make the host wait (device_memory::deferred_check registers
// one): a thread that finds bad input calls fail(), which writes `id` into the device slot if it is still 0.
// Every thread of a launch writes the same id and launches run in order, so the slot keeps the first failing
// launch's. The next read from the device raises that check's message.
#include <cstdint>

#include "engine/host_device.h"

namespace dphys {

struct KernelCheck {
  std::int64_t* slot;
  std::int64_t id;
  DPHYS_HOST_DEVICE void fail() const {
    if (*slot == 0) *slot = id;
  }
};

}  // namespace dphys
