#pragma once
// Batched, matrix-free conjugate gradients and a differentiable linear solve built on it.
// Axis 0 is the batch: each example is its own system A x_b = b_b with its own convergence.
#include <functional>
#include <vector>

#include "engine/tensor.h"

namespace dphys {

struct CgOptions {
  double rel_tol = 1e-5;  // stop when ‖r‖ ≤ max(abs_tol, rel_tol·‖b‖), per example
  double abs_tol = 1e-12;
  int max_iterations = 1000;
  // For operators singular on constants (periodic or closed Poisson): b and the iterates are projected to
  // zero mean per example, which solves in the range of A with no fallback to another solver.
  bool zero_mean = false;
  // Raise when any example has not converged within max_iterations. With false an unconverged solve is
  // accepted and only reported: in CgResult, or through linear_solve's `info` (its adjoint solve, in the
  // backward pass, reports to nobody), for callers that cap the work on purpose.
  bool strict = true;
};

struct CgResult {
  Tensor x;
  std::vector<int> iterations;   // per example
  std::vector<bool> converged;   // per example
  std::vector<double> residual;  // final ‖r‖ per example
  bool all_converged() const;
};

// x ↦ A x, batched over axis 0; A must be symmetric positive definite (semi-definite with zero_mean).
using LinearOperator = std::function<Tensor(const Tensor& x)>;

// Plain CG (Jacobi-preconditioned when `diagonal`, the diagonal of A in x's shape, is given), warm-started
// from x0 when defined, or from zero for examples where x0 is farther from the solution than zero. Records
// nothing. NaN or Inf in b or x0, and a diagonal that is not positive and finite, are errors naming the op.
CgResult conjugate_gradient(const LinearOperator& a, const Tensor& b, const Tensor& x0 = Tensor(),
                            const CgOptions& options = {}, const Tensor& diagonal = Tensor());

// An operator that depends on tensors that may need gradients: A(x; params).
using ParametrisedOperator = std::function<Tensor(const Tensor& x, const std::vector<Tensor>& params)>;

// x = A(params)⁻¹ b as one recorded op: the CG iterations are never recorded. Its VJP solves the adjoint
// system with the same op (A is symmetric) — λ = A⁻¹ ḡ, b̄ = λ, θ̄ = −λᵀ ∂(A x)/∂θ — so higher derivatives work
// too. `info`, when given, receives the forward solve's convergence report.
Tensor linear_solve(const ParametrisedOperator& a, const Tensor& b, const std::vector<Tensor>& params = {},
                    const CgOptions& options = {}, const Tensor& x0 = Tensor(), CgResult* info = nullptr,
                    const Tensor& diagonal = Tensor());

}  // namespace dphys
