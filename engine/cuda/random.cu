// Device kernels of the random draws (engine/creation.cpp): Generator's elements, so a device draws the
// numbers the host would: the same random bits, with the last bit of a value free to differ where the device
// fuses a multiply-add or its log and cos round differently from the host's.
#include "engine/cuda/launch.h"
#include "engine/device_kernels.h"
#include "engine/random.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void random_fill_typed(Distribution distribution, std::int64_t n, std::uint64_t seed, std::uint64_t start,
                       double a, double b, double c, T* out) {
  if (distribution == Distribution::uniform)
    return for_each("uniform", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
      out[i] = static_cast<T>(Generator::uniform_element(seed, start, i, a, b, c));
    });
  for_each("normal", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    out[i] = static_cast<T>(Generator::normal_element(seed, start, i, a, b));
  });
}

}  // namespace

void random_fill(Distribution distribution, DType dtype, std::int64_t n, std::uint64_t seed,
                 std::uint64_t start, double a, double b, double c, void* out) {
  if (dtype == DType::f32)
    return random_fill_typed(distribution, n, seed, start, a, b, c, static_cast<float*>(out));
  random_fill_typed(distribution, n, seed, start, a, b, c, static_cast<double*>(out));
}

}  // namespace dphys::device_kernel
