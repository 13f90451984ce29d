#pragma once
// Numerical local inverses 𝒫⁻¹(y; x₀) for PG when no closed form exists (pbdl_physgrad.md §1.6, §2.5
// "Approximate inversion"): minimise ½‖𝒫(x) − y‖² warm-started at the current guess x₀, which keeps the
// solution on x₀'s branch.
#include "steps.h"

namespace dphys::pbdl_toy {

// L-BFGS (optim::lbfgs_minimize), the book notebook's fmin_l_bfgs_b but with autodiff gradients.
LocalInverse lbfgs_inverse(Simulator simulator);
// Gauss–Newton on the residual 𝒫(x) − y (optim::gauss_newton_step) until the step stops changing x.
LocalInverse gauss_newton_inverse(Simulator simulator);

}  // namespace dphys::pbdl_toy
