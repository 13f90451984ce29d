#pragma once
// Quasi-Newton minimisation of B independent problems at once: BFGS with a dense inverse Hessian (the
// baseline of jpo.md §3.1, after scipy.optimize.minimize(method='BFGS')) and L-BFGS (Nocedal & Wright,
// Numerical Optimization, 2nd ed., Algorithm 7.4/7.5). Each problem keeps its own state and stops on its
// own. Every round evaluates the current trial point of every running problem in one batched call; a
// problem whose line search ends steps and starts its next search in the following round without waiting
// for the others. Each problem's trajectory is therefore exactly what it would be alone, and the batch
// takes as many rounds as its most expensive problem takes evaluations.
#include <string_view>
#include <vector>

#include "optim/line_search.h"

namespace dphys::optim {

struct BfgsOptions {
  // Converged when ‖∇f‖_∞ ≤ gtol (SciPy's default norm and tolerance).
  double gtol = 1e-5;
  // Accepted steps per problem; negative means 200·d, SciPy's default.
  int max_iterations = -1;
  // Objective evaluations per problem, counting the first; negative means no limit. Checked between
  // iterations, so a problem may pass it by one line search.
  int max_evaluations = -1;
  LineSearchOptions line_search;
};

struct LbfgsOptions : BfgsOptions {
  // Correction pairs (s, y) kept.
  int memory = 10;
};

enum class StopReason { converged, max_iterations, max_evaluations, line_search_failed, non_finite };
std::string_view stop_reason_name(StopReason reason);

struct QuasiNewtonRecord {
  int iterations = 0;    // accepted steps (SciPy's nit)
  int evaluations = 0;   // points where f and ∇f were evaluated for this problem (SciPy's nfev)
  double loss = 0;       // final f
  double grad_norm = 0;  // final ‖∇f‖_∞
  StopReason reason = StopReason::converged;
};

struct QuasiNewtonResult {
  Tensor x;     // [B, d], the last accepted iterates
  Tensor loss;  // [B]
  Tensor grad;  // [B, d]
  std::vector<QuasiNewtonRecord> problems;
  int rounds = 0;  // batched evaluations of the objective (the largest per-problem evaluation count)
};

// Minimises every problem from x0 [B, d] (any floating dtype; the work is done in it). Iteration k of
// problem b, as SciPy's BFGS:
//   p = −H·g;  the first trial step is α₁ = min(1, 1.01·2·(f_k − f_{k−1})/(gᵀp)) (1 if that is negative),
//   with f_{−1} = f_0 + ‖g_0‖₂/2 so that the first step moves about min(‖g_0‖₂, 1.01) in x;
//   α from the line search below;  s = α·p,  y = g_{k+1} − g_k,  ρ = 1/(yᵀs) (1000 if yᵀs = 0);
//   H ← (I − ρ·s·yᵀ)·H·(I − ρ·y·sᵀ) + ρ·s·sᵀ, starting at H = I.
// α comes from SciPy's line search pair (optim/more_thuente.h): MINPACK's Moré–Thuente search, then the
// strong-Wolfe zoom search where that fails. A problem stops when converged, at its iteration or evaluation
// limit, when both line searches fail (x stays at the last accepted point: SciPy's "precision loss"), or
// with reason non_finite when f(x0) or ∇f(x0) is not finite. Stopped problems no longer move.
QuasiNewtonResult bfgs_minimize(const BatchedObjective& f, const Tensor& x0,
                                const BfgsOptions& options = BfgsOptions());
// The same, evaluating only the running problems each round: the same result, for the cost of the
// evaluations each problem needs instead of rounds × B.
QuasiNewtonResult bfgs_minimize(const SubsetObjective& f, const Tensor& x0,
                                const BfgsOptions& options = BfgsOptions());

// As bfgs_minimize (same first trial steps, line search and stopping), with the inverse Hessian replaced by
// the two-loop recursion over the problem's last `memory` pairs (s, y), scaled by H₀ = (sᵀy / yᵀy)·I from
// the newest pair (N&W Eq. 7.20; I before the first).
// Pairs with yᵀs ≤ 0 (which the strong Wolfe conditions rule out in exact arithmetic) are skipped.
QuasiNewtonResult lbfgs_minimize(const BatchedObjective& f, const Tensor& x0,
                                 const LbfgsOptions& options = LbfgsOptions());
QuasiNewtonResult lbfgs_minimize(const SubsetObjective& f, const Tensor& x0,
                                 const LbfgsOptions& options = LbfgsOptions());

}  // namespace dphys::optim
