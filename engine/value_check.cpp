#include "engine/value_check.h"

#include "engine/device_dispatch.h"
#include "engine/device_kernels.h"
#include "engine/device_memory.h"

namespace dphys::kernel {

void check_zero(const Tensor& value, std::string message) {
  DPHYS_CHECK(value.numel() == 1 && (value.dtype() == DType::f32 || value.dtype() == DType::f64),
              "check_zero: expected one f32 or f64 value, got {} of shape {}", dtype_name(value.dtype()),
              shape_str(value.shape()));
  if (value.device().is_cpu()) {
    DPHYS_CHECK(value.item() == 0.0, "{}", message);
    return;
  }
  device_kernel::fail_unless_zero(value.dtype(), device_address(value),
                                  device_memory::deferred_check(value.device(), std::move(message)));
}

}  // namespace dphys::kernel
