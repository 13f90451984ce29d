#pragma once
// The toy experiments of ../shared/experiments/pbdl_physgrad.md. Each runs its methods, writes metrics,
// paths and values, and adds its acceptance checks (§4).
#include "../common/run_output.h"

namespace dphys::pbdl_toy {

// E1 (§2.1): the 2-D toy with one component scaled by α; checks 4.1 and 4.2.
void run_scaling_toy(app::RunOutput& out);
// E5 (§2.5): GD, Newton and PG (analytic and numerical inverse) on y = (x₀, x₁²); checks 4.3 to 4.6.
void run_comparison(app::RunOutput& out);
// E2 (§1.9) first-step scaling laws and E4 (§2.4) the local inverse of x²; checks 4.7 and 4.8.
void run_sensitivity(app::RunOutput& out);

}  // namespace dphys::pbdl_toy
