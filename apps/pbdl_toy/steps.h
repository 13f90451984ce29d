#pragma once
// The update rules of ../shared/experiments/pbdl_physgrad.md §1 on tiny problems, built on dphys autodiff and
// optim. A point is a [1, d] f64 tensor (one problem of the batched optimizers); a loss maps [B, d] to [B]
// and a simulator [B, n] to [B, m], row b depending on row b only. Every *_step returns Δx; x ← x + Δx.
#include <functional>
#include <vector>

#include "autodiff/transforms.h"
#include "optim/line_search.h"

namespace dphys::pbdl_toy {

using Simulator = UnaryFunction;
using Loss = optim::BatchedObjective;
// 𝒫⁻¹(y; x₀): the x with 𝒫(x) = y nearest the current guess x₀ (§1.6).
using LocalInverse = std::function<Tensor(const Tensor& y, const Tensor& guess)>;

// The device every point of this run is made on (the app's --device); the CPU unless set.
void set_run_device(Device device);
Tensor point(const std::vector<double>& values);
// L ∘ 𝒫: the loss as a function of x.
Loss compose(const Loss& loss_y, const Simulator& simulator);

// GD (§1.1): Δx = −η ∇L.
Tensor gd_step(const Loss& loss, const Tensor& x, double eta);
// Newton (§1.3): Δx = −η H⁻¹ ∇L with the Hessian from autodiff.
Tensor newton_step(const Loss& loss, const Tensor& x, double eta);
// The loss's own Newton step in y-space, Δy = −η (∂²L/∂y²)⁻¹ ∂L/∂y, which IG and PG follow (§1.6).
Tensor loss_newton_dy(const Loss& loss_y, const Tensor& y, double eta);
// IG (§1.5): Δx = (∂y/∂x)⁻¹ Δy; J must be square.
Tensor ig_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta);
// PG (§1.6): Δx = 𝒫⁻¹(y + Δy; x) − x.
Tensor pg_step(const Simulator& simulator, const LocalInverse& inverse, const Loss& loss_y, const Tensor& x,
               double eta);
// Gauss–Newton (§1.4): Δx = −η J⁺ (∂L/∂y)ᵀ.
Tensor gn_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta);
// HIG (§1.8): Δx = −η J^{-1/2} (∂L/∂y)ᵀ.
Tensor hig_step(const Simulator& simulator, const Loss& loss_y, const Tensor& x, double eta);

// The iterates x₀ … x_K of one run and the wall-clock seconds at which each was reached.
struct Path {
  std::vector<std::vector<double>> x;
  std::vector<double> seconds;
};
// x_{k+1} from x_k.
using Update = std::function<Tensor(const Tensor& x)>;
// Runs x ← next(x) from x0 until done(k, x_k) or max_steps steps.
Path iterate(const Tensor& x0, const Update& next, int max_steps,
             const std::function<bool(int, const std::vector<double>&)>& done = {});
// Adam (§1.2, optim::Adam) on L from x0 for `steps` steps.
Path adam_path(const Loss& loss, const Tensor& x0, double lr, int steps);

// The iterates as one [K, d] batch.
Tensor as_tensor(const Path& path);
// x₀ … x_n only.
Path head(const Path& path, std::size_t n);

double norm(const std::vector<double>& v);
double distance(const std::vector<double>& a, const std::vector<double>& b);
// The first k with ‖x_k‖ < bound, or -1.
int first_below(const Path& path, double bound);

}  // namespace dphys::pbdl_toy
