#include "optim/problem.h"

#include "autodiff/ops.h"

namespace dphys::optim {

Tensor PhysicsProblem::loss(const Tensor& y, const Tensor& target) const {
  DPHYS_CHECK(y.shape() == target.shape() && y.dim() >= 1,
              "PhysicsProblem::loss: output {} and target {} differ", shape_str(y.shape()),
              shape_str(target.shape()));
  const Tensor r = y - target;
  if (y.dim() == 1) return 0.5 * r * r;
  std::vector<int> axes;
  for (int d = 1; d < y.dim(); ++d) axes.push_back(d);
  return 0.5 * sum(r * r, axes);
}

Tensor PhysicsProblem::inverse_update(const Tensor& x, const Tensor&, const Tensor&) const {
  fail("PhysicsProblem::inverse_update: this problem has no inverse solver (unknowns of shape {})",
       shape_str(x.shape()));
}

}  // namespace dphys::optim
