#pragma once
// What the device suites (cuda_*_tests.cpp) share: the skip without a device, and comparing a result computed
// on the device with the CPU's.
#include <cmath>
#include <functional>

#include "autodiff/transforms.h"
#include "test_util.h"

namespace dphys::cuda_test {

inline const Device gpu = Device::cuda();

using test::cuda_device_present;

inline Tensor random_tensor(const Shape& shape, DType dtype, std::uint64_t seed, double low = -2.0,
                            double high = 2.0) {
  Generator gen(seed);
  return uniform(shape, low, high, gen, dtype);
}

// The elements as f64, a complex one as its real and imaginary parts.
inline std::vector<double> as_reals(const Tensor& x) {
  if (!is_complex(x.dtype())) return cast(x, DType::f64).to_vector<double>();
  std::vector<double> parts;
  for (const c128& z : cast(x, DType::c128).to_vector<c128>()) {
    parts.push_back(z.real());
    parts.push_back(z.imag());
  }
  return parts;
}

// Equal up to `tolerance` (relative to 1 + |expected|), NaN where the CPU has NaN, same shape and dtype.
inline void check_agrees(const Tensor& on_device, const Tensor& on_cpu, double tolerance) {
  REQUIRE(on_device.device() == gpu);
  REQUIRE(on_device.shape() == on_cpu.shape());
  REQUIRE(on_device.dtype() == on_cpu.dtype());
  const auto got = as_reals(on_device.to(Device::cpu())), want = as_reals(on_cpu);
  double worst = 0.0;
  std::size_t nan_mismatches = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) || std::isnan(got[i])) {
      nan_mismatches += std::isnan(want[i]) != std::isnan(got[i]);
      continue;
    }
    worst = std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
  }
  CHECK(nan_mismatches == 0);
  CHECK(worst <= tolerance);
}

inline double tolerance(DType dtype) { return dtype == DType::f32 ? 2e-6 : 1e-14; }

// Runs f on CPU inputs and on their device copies and compares the results.
inline void check_op(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                     const std::vector<Tensor>& inputs, double tol) {
  std::vector<Tensor> on_device;
  for (const Tensor& x : inputs) on_device.push_back(x.to(gpu));
  check_agrees(f(on_device), f(inputs), tol);
}

// f computed on the device equals the CPU's, and so do the gradients of Σ f(inputs)² with respect to every
// input.
inline void check_op_and_gradients(const Function& f, const std::vector<Tensor>& inputs, double tol) {
  check_op(f, inputs, tol);
  const Function loss = [&](const std::vector<Tensor>& v) { return sum(square(f(v))); };
  std::vector<Tensor> on_device;
  for (const Tensor& x : inputs) on_device.push_back(x.to(gpu));
  const std::vector<Tensor> cpu_grads = grad(loss, inputs), device_grads = grad(loss, on_device);
  REQUIRE(device_grads.size() == cpu_grads.size());
  for (std::size_t i = 0; i < cpu_grads.size(); ++i) {
    CAPTURE(i);
    check_agrees(device_grads[i], cpu_grads[i], tol);
  }
}

}  // namespace dphys::cuda_test
