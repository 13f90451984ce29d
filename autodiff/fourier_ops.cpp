#include "autodiff/fourier_ops.h"

#include "autodiff/node.h"
#include "engine/elementwise.h"
#include "engine/fft.h"

namespace dphys {

namespace {

// Multipliers are small (one value per bin), so a device multiplier is conjugated on the host.
Tensor conjugate(const Tensor& m) {
  if (!is_complex(m.dtype())) return m;
  Tensor out = m.to(Device::cpu()).clone();
  const std::int64_t n = out.numel();
  if (m.dtype() == DType::c128)
    for (std::int64_t i = 0; i < n; ++i) out.data<c128>()[i] = std::conj(out.data<c128>()[i]);
  else
    for (std::int64_t i = 0; i < n; ++i) out.data<c64>()[i] = std::conj(out.data<c64>()[i]);
  return out.to(m.device());
}

}  // namespace

Tensor fourier_filter(const Tensor& x, const Tensor& multiplier, int dims) {
  Tensor out = kernel::fourier_filter(x, multiplier, dims);
  if (!needs_grad(x)) return out;
  return record("fourier_filter", {x}, out,
                [adjoint = conjugate(multiplier), dims](const Tensor& g, const Tensor&) {
                  return std::vector<Tensor>{fourier_filter(g, adjoint, dims)};
                });
}

}  // namespace dphys
