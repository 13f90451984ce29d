#pragma once
// A strong-Wolfe line search run on B independent problems at once (Nocedal & Wright, Numerical
// Optimization, 2nd ed., Algorithms 3.5 and 3.6, with the interpolation rules of SciPy's
// line_search_wolfe2). Every problem keeps its own step and bracket; each round evaluates the trial points
// of all problems still searching in one batched call.
#include <functional>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dphys::optim {

// Losses [B] of B independent problems at x [B, d]; the loss of problem b may depend on row b of x only.
using BatchedObjective = std::function<Tensor(const Tensor& x)>;
// The losses [R] of the problems `rows` (R ascending indices into the batch) at x [R, d]: row r of x is
// problem rows[r]. Minimizers given one evaluate only the problems still running.
using SubsetObjective = std::function<Tensor(const Tensor& x, const std::vector<std::int64_t>& rows)>;

// The losses [B] and their gradients [B, d] at x, from one reverse pass over the sum of the losses (the
// gradient of the sum separates per problem, because loss b depends on row b only).
std::pair<Tensor, Tensor> batched_value_and_grad(const BatchedObjective& f, const Tensor& x);

// Defaults are SciPy's (scipy.optimize.line_search_wolfe2 as BFGS calls it).
struct LineSearchOptions {
  double c1 = 1e-4;  // sufficient decrease
  double c2 = 0.9;   // curvature; 0.9 suits quasi-Newton directions (N&W §3.1)
  double max_step = 1e100;
  // The Moré–Thuente search's smallest step and relative interval tolerance (SciPy's BFGS: amin = 1e-100,
  // xtol = 1e-14).
  double min_step = 1e-100;
  double xtol = 1e-14;
  // Trial points while the step doubles looking for a bracket (SciPy: maxiter = 10).
  int max_bracket_evaluations = 10;
  // Trial points inside a bracket before giving up (SciPy's _zoom: 11).
  int max_zoom_evaluations = 11;
};

// One problem's strong-Wolfe search along φ(α) = f(x + α·p), as a state machine fed one trial point at a
// time. line_search_strong_wolfe drives one per problem; the quasi-Newton methods (optim/bfgs.h) drive
// them directly, so that a problem whose search has ended starts its next one while others still zoom.
class WolfeSearch {
 public:
  // Starts from φ(0) and φ'(0) with the first trial step (capped at max_step). Fails at once unless φ(0) and
  // φ'(0) are finite, φ'(0) < 0 (p is a descent direction) and first_step > 0.
  void begin(double phi0, double dphi0, double first_step, const LineSearchOptions& options);
  bool searching() const { return phase_ == Phase::bracket || phase_ == Phase::zoom; }
  bool succeeded() const { return phase_ == Phase::done; }
  // The step to evaluate next; once succeeded, the accepted step.
  double trial() const { return trial_; }
  // φ and φ' at trial(). A non-finite φ or φ' counts as φ = +∞, so the search backtracks from points where
  // the objective breaks down.
  void observe(double phi, double dphi);

 private:
  enum class Phase { idle, bracket, zoom, done, failed };
  void observe_bracket(double phi, double dphi);
  void observe_zoom(double phi, double dphi);
  void begin_zoom();
  void next_zoom_trial();

  LineSearchOptions options_;
  Phase phase_ = Phase::idle;
  double phi0_ = 0, dphi0_ = 0;
  double trial_ = 0;
  int count_ = 0;  // trial points evaluated in the current phase
  // Bracketing: lo is the previous trial (α_{i−1} of Algorithm 3.5). Zooming: lo is the end with the lower
  // φ that satisfies sufficient decrease, hi the other end, rec the end dropped last (the cubic's third
  // point).
  double a_lo_ = 0, phi_lo_ = 0, dphi_lo_ = 0;
  double a_hi_ = 0, phi_hi_ = 0;
  double a_rec_ = 0, phi_rec_ = 0;
};

struct LineSearchResult {
  Tensor x;                      // [B, d]: x + α·p where the search succeeded, x elsewhere
  Tensor loss;                   // [B]: f at those points
  Tensor grad;                   // [B, d]: ∇f at those points
  std::vector<double> step;      // α, 0 where the search failed or did not run
  std::vector<bool> success;     // both strong Wolfe conditions hold at α
  std::vector<int> evaluations;  // trial points evaluated for each problem
  int rounds = 0;                // batched evaluations made
};

// For each problem b with active[b], looks for α > 0 with, for φ(α) = f_b(x_b + α·p_b),
//   φ(α) ≤ φ(0) + c1·α·φ'(0)   and   |φ'(α)| ≤ c2·|φ'(0)|,
// starting at initial_step[b] (capped at max_step) and doubling it until a bracket is found, then zooming
// in by safeguarded cubic, quadratic or bisection steps. A non-finite φ(α) or φ'(α) counts as φ(α) = +∞,
// so the search backtracks from points where the objective breaks down. Problems that are not active, or
// whose p_b is not a descent direction (φ'(0) ≥ 0) or whose loss or gradient is not finite, fail at once.
// All problems still searching are evaluated together, one batched call per round; the others are
// evaluated at x (the batch is always evaluated whole) and their result is not moved. `loss` and `grad` are f
// and ∇f at x.
LineSearchResult line_search_strong_wolfe(const BatchedObjective& f, const Tensor& x, const Tensor& direction,
                                          const Tensor& loss, const Tensor& grad,
                                          const std::vector<double>& initial_step,
                                          const std::vector<bool>& active,
                                          const LineSearchOptions& options = LineSearchOptions());

}  // namespace dphys::optim
