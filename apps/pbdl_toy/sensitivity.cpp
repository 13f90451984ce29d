// E2 (pbdl_physgrad.md §1.9): on y = αx with L = ½(y − y*)², x₀ = 1, x* = 0.2, η = 0.5, the first step of
// each rule scales as α^(κ+1): α² for GD, α^½ for HIG, α⁰ for GN, IG, Newton and PG.
// E4 (§2.4): PG with the local inverse 𝒫⁻¹(y; x₀) = sign(x₀)·√y of 𝒫(x) = x² stays on x₀'s branch.
#include <cmath>
#include <map>

#include "autodiff/ops.h"
#include "experiments.h"
#include "report.h"

namespace dphys::pbdl_toy {

namespace {

// |Δx| of each method's first step at slope α.
std::map<std::string, double> first_steps(double alpha) {
  const Simulator simulator = [alpha](const Tensor& x) { return x * alpha; };
  const double target = alpha * 0.2;
  const Loss loss_y = [target](const Tensor& y) { return sum(square(y - target), {1}) * 0.5; };
  const Loss loss = compose(loss_y, simulator);
  const LocalInverse inverse = [alpha](const Tensor& y, const Tensor&) { return y / alpha; };
  const Tensor x0 = point({1.0});
  const double eta = 0.5;
  const std::map<std::string, Tensor> steps = {{"gd", gd_step(loss, x0, eta)},
                                               {"hig", hig_step(simulator, loss_y, x0, eta)},
                                               {"gn", gn_step(simulator, loss_y, x0, eta)},
                                               {"ig", ig_step(simulator, loss_y, x0, eta)},
                                               {"newton", newton_step(loss, x0, eta)},
                                               {"pg", pg_step(simulator, inverse, loss_y, x0, eta)}};
  std::map<std::string, double> lengths;
  for (const auto& [name, step] : steps) lengths[name] = std::abs(step.item());
  return lengths;
}

void run_scaling_laws(app::RunOutput& out) {
  std::map<double, std::map<std::string, double>> by_alpha;
  for (double alpha : {0.1, 1.0, 10.0, 100.0}) {
    by_alpha[alpha] = first_steps(alpha);
    for (const auto& [name, length] : by_alpha[alpha])
      out.add_value(fmt::format("E2.{}.first_step.alpha={}", name, alpha), length);
  }
  // α^(κ+1) at α = 10 (§1.9).
  const std::map<std::string, double> expected = {{"gd", 100.0}, {"hig", std::sqrt(10.0)}, {"gn", 1.0},
                                                  {"ig", 1.0},   {"newton", 1.0},          {"pg", 1.0}};
  for (const auto& [name, ratio] : expected)
    out.add_check(near("4.7." + name, "first-step length at alpha = 10 over alpha = 1, " + name,
                       by_alpha[10.0][name] / by_alpha[1.0][name], ratio, 1e-9 * ratio,
                       "relative tolerance 1e-9"));
}

void run_branch(app::RunOutput& out) {
  const Simulator simulator = [](const Tensor& x) { return square(x); };
  const Loss loss_y = [](const Tensor& y) { return sum(square(y - 1.0), {1}) * 0.5; };
  const LocalInverse inverse = [](const Tensor& y, const Tensor& guess) { return sign(guess) * sqrt(y); };
  const Tensor x0 = point({-2.0});
  const auto pg = [&](double eta) { return (x0 + pg_step(simulator, inverse, loss_y, x0, eta)).item(); };

  const double full = pg(1.0);
  out.add_check(
      near("4.8.a", "PG with eta = 1 from x0 = -2 towards y* = 1 lands exactly on x = -1", full, -1.0, 0.0));
  out.add_check(make_check("4.8.b", "and stays on x0's branch (the global +sqrt would give +1)", full, "< 0",
                           full < 0.0));
  out.add_check(at_most("4.8.c", "reaching the target in one iteration: |P(x1) - y*|",
                        std::abs(full * full - 1.0), 1e-12));
  const double partial = pg(0.3);
  out.add_check(near("4.8.d", "PG with eta = 0.3 lands on x = -1.760682", partial, -1.760682, 5e-7,
                     "the spec rounds to 6 decimals"));
  out.add_check(at_most("4.8.e", "there P(x) = y0 + dy = 3.1", std::abs(partial * partial - 3.1), 1e-12));
}

}  // namespace

void run_sensitivity(app::RunOutput& out) {
  run_scaling_laws(out);
  run_branch(out);
}

}  // namespace dphys::pbdl_toy
