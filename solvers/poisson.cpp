#include "solvers/poisson.h"

#include <cmath>

#include "autodiff/ops.h"
#include "solvers/stencils.h"

namespace dphys {

Tensor solve_poisson(const Tensor& f, int dims, double dy, double dx, Boundary boundary, CgOptions options,
                     const Tensor& x0, CgResult* info) {
  DPHYS_CHECK(dims == 1 || dims == 2, "solve_poisson: dims must be 1 or 2, got {}", dims);
  DPHYS_CHECK(f.dim() >= dims + 1, "solve_poisson: expected a batch axis and {} grid axes, got shape {}",
              dims, shape_str(f.shape()));
  DPHYS_CHECK(dx > 0 && std::isfinite(dx) && (dims == 1 || (dy > 0 && std::isfinite(dy))),
              "solve_poisson: grid spacings must be positive and finite, got dy={} dx={}", dy, dx);
  options.zero_mean = options.zero_mean || boundary != Boundary::dirichlet;
  const ParametrisedOperator negative_laplacian = [=](const Tensor& x, const std::vector<Tensor>&) {
    return neg(laplacian(x, dims, dy, dx, boundary));
  };
  return linear_solve(negative_laplacian, neg(f), {}, options, x0, info);
}

}  // namespace dphys
