#include "engine/value_check.h"

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/device_kernels.h"
#include "engine/device_memory.h"
#include "engine/elementwise.h"
#include "engine/reduce.h"

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

void check_finite(const Tensor& x, std::string message) {
  DPHYS_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "check_finite: expected f32 or f64, got {}",
              dtype_name(x.dtype()));
  const Tensor zero_times_x = binary(BinaryOp::mul, x, scalar(0.0, x.dtype(), x.device()));
  check_zero(reduce(ReduceOp::sum, zero_times_x, {}, false), std::move(message));
}

}  // namespace dphys::kernel
