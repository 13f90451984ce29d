#pragma once
// Helpers shared by the test suites.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "dphys.h"

namespace dphys::test {

// True on a machine with a CUDA device (or the emulated one); otherwise says why the case is skipped. With
// DPHYS_REQUIRE_CUDA=1 in the environment (scripts/gpu_check.sh sets it) a missing device fails the case
// instead, so a GPU run whose driver or runtime is broken cannot pass by skipping everything.
inline bool cuda_device_present() {
  if (cuda_available()) return true;
  const char* required = std::getenv("DPHYS_REQUIRE_CUDA");
  if (required != nullptr && std::string(required) == "1") {
    FAIL("DPHYS_REQUIRE_CUDA=1 but no CUDA device: " << cuda_unavailable_reason());
  }
  MESSAGE("no CUDA device (" << cuda_unavailable_reason() << "): skipping");
  return false;
}

// The message of the dphys::Error that f throws; fails the test if it throws nothing.
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a dphys::Error");
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = cast(a, DType::f64).to_vector<double>();
  const auto y = cast(b, DType::f64).to_vector<double>();
  REQUIRE(x.size() == y.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

inline double max_abs(const Tensor& a) {
  double worst = 0.0;
  for (double v : cast(a, DType::f64).to_vector<double>()) worst = std::max(worst, std::abs(v));
  return worst;
}

// Central finite differences of a one-element f with respect to input `which` (f64 inputs).
inline Tensor finite_difference_gradient(const Function& f, const std::vector<Tensor>& xs, std::size_t which,
                                         double eps = 1e-6) {
  NoGradGuard no_grad;
  std::vector<Tensor> inputs;
  for (const Tensor& x : xs) inputs.push_back(x.clone());
  Tensor& x = inputs[which];
  Tensor result = zeros(x.shape(), DType::f64);
  double* out = result.data<double>();
  double* p = x.data<double>();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + eps;
    const double up = f(inputs).item();
    p[i] = saved - eps;
    const double down = f(inputs).item();
    p[i] = saved;
    out[i] = (up - down) / (2 * eps);
  }
  return result;
}

}  // namespace dphys::test
