#include "autodiff/fourier_ops.h"

#include "autodiff/node.h"
#include "engine/elementwise.h"
#include "engine/fft.h"

namespace dphys {

Tensor fourier_filter(const Tensor& x, const Tensor& multiplier, int dims) {
  Tensor out = kernel::fourier_filter(x, multiplier, dims);
  if (!needs_grad(x)) return out;
  return record("fourier_filter", {x}, out,
                // Saved: a real multiplier is its own conjugate, the same storage the caller may overwrite.
                [adjoint = Saved(kernel::conj(multiplier)), dims](const Tensor& g, const Tensor&) {
                  return std::vector<Tensor>{fourier_filter(g, adjoint.get(), dims)};
                });
}

}  // namespace dphys
