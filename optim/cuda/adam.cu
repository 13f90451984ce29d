// Adam's update on a device: one thread per element (optim/adam_step.h).
#include "engine/cuda/launch.h"
#include "optim/adam_step.h"

namespace dphys::device_kernel {

namespace {

template <class T>
void adam_update_typed(std::int64_t n, const adam_step::Coefficients& coefficients, T* param, const T* grad,
                       T* exp_avg, T* exp_avg_sq) {
  const adam_step::Coefficients c = coefficients;
  for_each("adam", n, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    adam_step::update(c, param[i], grad[i], exp_avg[i], exp_avg_sq[i]);
  });
}

}  // namespace

void adam_update(DType dtype, std::int64_t n, const adam_step::Coefficients& coefficients, void* param,
                 const void* grad, void* exp_avg, void* exp_avg_sq) {
  if (dtype == DType::f32)
    return adam_update_typed(n, coefficients, static_cast<float*>(param), static_cast<const float*>(grad),
                             static_cast<float*>(exp_avg), static_cast<float*>(exp_avg_sq));
  adam_update_typed(n, coefficients, static_cast<double*>(param), static_cast<const double*>(grad),
                    static_cast<double*>(exp_avg), static_cast<double*>(exp_avg_sq));
}

}  // namespace dphys::device_kernel
