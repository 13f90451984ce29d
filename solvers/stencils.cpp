#include "solvers/stencils.h"

#include "autodiff/node.h"

namespace dphys {

Tensor laplacian(const Tensor& x, int dims, double dy, double dx, Boundary boundary) {
  Tensor out = kernel::laplacian(x, dims, dy, dx, boundary);
  if (!needs_grad(x)) return out;
  return record("laplacian", {x}, out, [dims, dy, dx, boundary](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{laplacian(g, dims, dy, dx, boundary)};
  });
}

}  // namespace dphys
