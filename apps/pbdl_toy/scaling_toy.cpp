// E1 (pbdl_physgrad.md §2.1): 𝒫(x₁, x₂) = (x₁, α·x₂), L = ‖𝒫‖², from x₀ = (0.5, 0.85). Newton, IG and PG
// are scale-invariant (identical iterates for every α); GD needs ∝ α² iterations.
#include <algorithm>
#include <cmath>

#include "autodiff/ops.h"
#include "experiments.h"
#include "report.h"

namespace dphys::pbdl_toy {

namespace {

constexpr double kConverged = 1e-3;  // ‖x‖ that ends a run (§2.1 protocol)
constexpr double kDiverged = 1e3;    // ‖x‖ that counts as divergence (§4 check 2)

struct AlphaCase {
  double alpha;
  int gd_iterations;  // §4 check 2: GD with η = 0.45/α² reaches ‖x‖ < 1e-3 after this many steps (±1)
  int fixed_gd_steps;  // table 2.1: the same with η = 0.02, or -1 where it diverges
};
const AlphaCase kCases[] = {{1, 3, 169}, {3, 59, 153}, {5, 170, 153}, {10, 688, -1}, {100, 69049, -1}};

struct AlphaRuns {
  Path newton, ig, pg, gd_scaled, gd_fixed, adam;
};

AlphaRuns run_alpha(double alpha) {
  const Tensor scale = point({1.0, alpha});
  const Simulator simulator = [scale](const Tensor& x) { return x * scale; };
  const Loss loss_y = [](const Tensor& y) { return sum(square(y), {1}); };
  const Loss loss = compose(loss_y, simulator);
  // 𝒫 is linear and bijective, so its global inverse is the local one.
  const LocalInverse inverse = [scale](const Tensor& y, const Tensor&) { return y / scale; };
  const Tensor x0 = point({0.5, 0.85});
  const auto converged = [](int, const std::vector<double>& x) { return norm(x) < kConverged; };
  const auto settled = [](int, const std::vector<double>& x) {
    return norm(x) < kConverged || norm(x) > kDiverged;
  };
  const double eta = 0.5, gd_eta = 0.45 / (alpha * alpha), fixed_eta = 0.02;
  AlphaRuns runs;
  runs.newton = iterate(
      x0, [&](const Tensor& x) { return x + newton_step(loss, x, eta); }, 1000, converged);
  runs.ig = iterate(
      x0, [&](const Tensor& x) { return x + ig_step(simulator, loss_y, x, eta); }, 1000, converged);
  runs.pg = iterate(
      x0, [&](const Tensor& x) { return x + pg_step(simulator, inverse, loss_y, x, eta); }, 1000, converged);
  runs.gd_scaled = iterate(
      x0, [&](const Tensor& x) { return x + gd_step(loss, x, gd_eta); }, 1000000, converged);
  runs.gd_fixed = iterate(
      x0, [&](const Tensor& x) { return x + gd_step(loss, x, fixed_eta); }, 100000, settled);
  runs.adam = adam_path(loss, x0, 0.05, 30);
  return runs;
}

// max_k ‖a_k − b_k‖ / ‖a_k‖ over the common iterates.
double max_relative_difference(const Path& a, const Path& b) {
  double worst = 0.0;
  for (std::size_t k = 0; k < std::min(a.x.size(), b.x.size()); ++k)
    worst = std::max(worst, distance(a.x[k], b.x[k]) / norm(a.x[k]));
  return worst;
}

double max_distance(const Path& a, const Path& b) {
  double worst = 0.0;
  for (std::size_t k = 0; k < std::min(a.x.size(), b.x.size()); ++k)
    worst = std::max(worst, distance(a.x[k], b.x[k]));
  return worst;
}

// The first k with ‖x_k‖ > kDiverged, or NaN (a check on it then fails).
double first_diverged(const Path& path) {
  for (std::size_t k = 0; k < path.x.size(); ++k)
    if (norm(path.x[k]) > kDiverged) return static_cast<double>(k);
  return NAN;
}

}  // namespace

void run_scaling_toy(app::RunOutput& out) {
  double worst_relative = 0.0, worst_first = 0.0, adam_spread = 0.0;
  Path adam_reference;
  std::vector<app::Check> iterations, gd;  // added after 4.1.a and 4.1.b, so summary.json reads in order
  for (const AlphaCase& c : kCases) {
    const AlphaRuns runs = run_alpha(c.alpha);
    const std::string tag = fmt::format("alpha={}", c.alpha);
    const std::vector<std::pair<std::string, const Path*>> named = {
        {"newton", &runs.newton},  {"ig", &runs.ig},         {"pg", &runs.pg},
        {"gd_a", &runs.gd_scaled}, {"gd_b", &runs.gd_fixed}, {"adam", &runs.adam}};
    const Tensor scale = point({1.0, c.alpha});
    const Loss loss = [scale](const Tensor& x) { return sum(square(x * scale), {1}); };
    for (const auto& [name, path] : named) {
      log_path(out, "E1." + name + "." + tag, *path, loss);
      if (c.alpha <= 5) save_path(out, "e1_" + tag + "_" + name, *path);
    }

    worst_relative = std::max({worst_relative, max_relative_difference(runs.newton, runs.ig),
                               max_relative_difference(runs.newton, runs.pg)});
    for (const Path* p : {&runs.newton, &runs.ig, &runs.pg})
      worst_first = std::max(worst_first, distance(p->x[1], {0.25, 0.425}));
    const int newton = first_below(runs.newton, kConverged), ig = first_below(runs.ig, kConverged),
              pg = first_below(runs.pg, kConverged);
    app::Check same =
        near("4.1.c." + tag, "Newton, IG and PG first reach |x| < 1e-3 at iteration 10 (" + tag + ")",
             std::max({newton, ig, pg}), 10, 0, fmt::format("Newton {}, IG {}, PG {}", newton, ig, pg));
    same.passed = same.passed && std::min({newton, ig, pg}) == 10;
    iterations.push_back(same);

    gd.push_back(near("4.2.a." + tag, "GD with eta = 0.45/alpha^2: iterations to |x| < 1e-3 (" + tag + ")",
                      first_below(runs.gd_scaled, kConverged), c.gd_iterations, 1));
    if (c.fixed_gd_steps > 0) {
      gd.push_back(
          near("4.2.b." + tag, "GD with eta = 0.02 converges: iterations to |x| < 1e-3 (" + tag + ")",
               first_below(runs.gd_fixed, kConverged), c.fixed_gd_steps, 1, "expected count from table 2.1"));
      out.add_value("E1.gd_b.norm_x20." + tag, norm(runs.gd_fixed.x.at(20)));
    } else if (c.alpha == 10) {
      gd.push_back(at_most("4.2.c." + tag,
                           "GD with eta = 0.02 diverges: first iteration with |x| > 1e3 (" + tag + ")",
                           first_diverged(runs.gd_fixed), 50));
    }

    // Table 2.1's last column: how far −∇L(x₀) turns away from the straight line to the minimum.
    const std::vector<double> d = gd_step(loss, point({0.5, 0.85}), 1.0).to_vector<double>();
    out.add_value("E1.gradient_angle_deg." + tag,
                  std::atan2(std::abs(d[0] * 0.85 - d[1] * 0.5), -(d[0] * 0.5 + d[1] * 0.85)) * 180.0 / M_PI);
    // Adam's per-coordinate normalisation makes its path the same for every axis-aligned α (§2.1).
    if (c.alpha == 1) adam_reference = runs.adam;
    adam_spread = std::max(adam_spread, max_distance(adam_reference, runs.adam));
  }
  out.add_check(at_most("4.1.a",
                        "Newton (eta 0.5), IG and PG give identical iterates for alpha in {1,3,5,10,100}",
                        worst_relative, 1e-12, "max relative difference over all iterates"));
  out.add_check(at_most("4.1.b", "first iterate of Newton, IG and PG is (0.25, 0.425) for every alpha",
                        worst_first, 1e-12, "max distance"));
  for (const std::vector<app::Check>* checks : {&iterations, &gd})
    for (const app::Check& check : *checks) out.add_check(check);
  out.add_value("E1.adam.max_distance_to_alpha1_path", adam_spread);
}

}  // namespace dphys::pbdl_toy
