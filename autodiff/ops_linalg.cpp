#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/matmul.h"

namespace dphys {

Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor out = kernel::matmul(a, b);
  if (!needs_grad(a, b)) return out;
  return record("matmul", {a, b}, out,
                [sa = Saved(a), sb = Saved(b), a_grad = a.requires_grad(), b_grad = b.requires_grad()](
                    const Tensor& g, const Tensor&) {
                  const Tensor &x = sa.get(), &y = sb.get();
                  // Batch axes that were broadcast are summed back by sum_to.
                  return std::vector<Tensor>{a_grad ? sum_to(matmul(g, transpose(y)), x.shape()) : Tensor(),
                                             b_grad ? sum_to(matmul(transpose(x), g), y.shape()) : Tensor()};
                });
}

}  // namespace dphys
