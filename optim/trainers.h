#pragma once
// Network training on a physics problem: SIP (scale-invariant physics, ../shared/experiments/sip.md §1.4–1.6)
// and the end-to-end baseline it is compared with. Both train any nn::Module with any first-order Optimizer;
// they differ only in the loss and in where the gradient flows.
#include "nn/module.h"
#include "optim/optimizer.h"
#include "optim/problem.h"

namespace dphys::optim {

// How per-example losses combine over the mini-batch (the specs say which, per experiment).
enum class BatchReduction { sum, mean };

struct StepReport {
  double loss = 0.0;        // REDUCE_b L(x_b) of the network's prediction, before the update
  double proxy_loss = 0.0;  // SIP: REDUCE_b ½‖x_b − x̃_b‖²; end-to-end: equal to loss
  Tensor prediction;        // the network's output x for this batch, detached (for error metrics)
};

Tensor reduce_batch(const Tensor& per_example, BatchReduction reduction);

struct SipOptions {
  BatchReduction reduction = BatchReduction::sum;
  // U ≡ Δx₀ + … + Δx_{m−1}: the physics update may be applied several times from the moving estimate.
  int solver_steps = 1;
};

// One SIP step per call: x = NN(input); Δx from the problem's inverse_update with no network derivative;
// proxy L̃ = REDUCE ½‖x − stop_gradient(x + Δx)‖²; backpropagate L̃ through the network only; optimizer step.
class SipTrainer {
 public:
  SipTrainer(nn::Module& network, const PhysicsProblem& problem, Optimizer& optimizer,
             SipOptions options = {});
  // `input` is the network's input (the observations, shaped as the network expects); `target` is y*.
  StepReport step(const Tensor& input, const Tensor& target);

 private:
  nn::Module& network_;
  const PhysicsProblem& problem_;
  Optimizer& optimizer_;
  SipOptions options_;
};

// The baseline: loss REDUCE_b L(P(NN(input))_b, y*_b), backpropagated through the physics and the network.
class EndToEndTrainer {
 public:
  EndToEndTrainer(nn::Module& network, const PhysicsProblem& problem, Optimizer& optimizer,
                  BatchReduction reduction = BatchReduction::sum);
  StepReport step(const Tensor& input, const Tensor& target);
  // The same loss as a closure (for optimizers that need to re-evaluate it: Hessian-free, AdaHessian).
  Tensor loss(const Tensor& input, const Tensor& target);

 private:
  std::pair<Tensor, Tensor> loss_and_prediction(const Tensor& input, const Tensor& target);
  nn::Module& network_;
  const PhysicsProblem& problem_;
  Optimizer& optimizer_;
  BatchReduction reduction_;
};

}  // namespace dphys::optim
