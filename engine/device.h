#pragma once
#include <string>

namespace dphys {

enum class DeviceType { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// CUDA devices this build can use: 0 without the CUDA backend or without a GPU. A test build made with
// DPHYS_CUDA_EMULATION reports one emulated device, cuda:0, whose memory is host memory and whose kernels
// run on the host (see engine/cuda/launch.h).
int cuda_device_count();
bool cuda_available();
// Why cuda_available() is false, in words (e.g. the CUDA runtime's error when the driver is too old); empty
// when it is true.
std::string cuda_unavailable_reason();
bool cuda_is_emulated();
// Waits until the queued device work is done (timing); copies to the host wait by themselves.
void cuda_synchronize();

}  // namespace dphys
