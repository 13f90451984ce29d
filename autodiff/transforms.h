#pragma once
// Function transforms in the style of JAX, on top of the reverse pass. They nest: the derivative computed
// inside an outer transform is itself recorded, so grad of grad, HVPs and JVPs work.
#include <functional>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace dphys {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;
using UnaryFunction = std::function<Tensor(const Tensor&)>;

// Gradients of a one-element f with respect to each x (zeros where f does not depend on x).
std::vector<Tensor> grad(const Function& f, const std::vector<Tensor>& xs);
Tensor grad(const UnaryFunction& f, const Tensor& x);
// f(xs) together with its gradients, from one forward pass.
std::pair<Tensor, std::vector<Tensor>> value_and_grad(const Function& f, const std::vector<Tensor>& xs);
// f(xs) and the vector-Jacobian products cotangentᵀ ∂f/∂x_i.
std::pair<Tensor, std::vector<Tensor>> vjp(const Function& f, const std::vector<Tensor>& xs,
                                           const Tensor& cotangent);
// f(xs) and the Jacobian-vector product Σ_i ∂f/∂x_i · tangent_i (two reverse passes: the double-VJP trick).
std::pair<Tensor, Tensor> jvp(const Function& f, const std::vector<Tensor>& xs,
                              const std::vector<Tensor>& tangents);
// Hessian of a one-element f at x times v (reverse over reverse).
Tensor hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v);
// ∂f/∂x with shape f(x).shape + x.shape, one reverse pass per output element.
Tensor jacobian(const UnaryFunction& f, const Tensor& x);
// The same values with no gradient history.
Tensor stop_gradient(const Tensor& x);

// An op with a user forward (run without recording) and a user backward that returns one gradient per
// input given the output's cotangent. Write backward with differentiable ops to allow higher derivatives;
// a backward that runs its own solver under NoGradGuard gives first derivatives only.
using CustomBackward = std::function<std::vector<Tensor>(
    const Tensor& grad, const std::vector<Tensor>& inputs, const Tensor& output)>;
Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, const Function& forward,
                 CustomBackward backward);
// Runs f without recording its intermediates and recomputes them during backward: memory for compute.
// Gradients reach only `inputs`: a tensor that f captures instead of receiving is a constant to it, even
// when it requires grad.
Tensor checkpoint(const Function& f, const std::vector<Tensor>& inputs);

}  // namespace dphys
