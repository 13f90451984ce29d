#include "optim/trainers.h"

#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

// ½‖a_b − b_b‖² per example: shape [B].
Tensor half_squared_distance(const Tensor& a, const Tensor& b) {
  const Tensor d = a - b;
  std::vector<int> axes;
  for (int k = 1; k < d.dim(); ++k) axes.push_back(k);
  return axes.empty() ? 0.5 * d * d : 0.5 * sum(d * d, axes);
}

void check_batch(const char* trainer, const Tensor& input, const Tensor& target) {
  DPHYS_CHECK(input.dim() >= 1 && target.dim() >= 1 && input.shape()[0] == target.shape()[0],
              "{}: input {} and target {} must share the batch axis", trainer, shape_str(input.shape()),
              shape_str(target.shape()));
}

}  // namespace

Tensor reduce_batch(const Tensor& per_example, BatchReduction reduction) {
  return reduction == BatchReduction::sum ? sum(per_example) : mean(per_example);
}

SipTrainer::SipTrainer(nn::Module& network, const PhysicsProblem& problem, Optimizer& optimizer,
                       SipOptions options)
    : network_(network), problem_(problem), optimizer_(optimizer), options_(options) {
  DPHYS_CHECK(options.solver_steps >= 1, "SipTrainer: solver_steps must be at least 1, got {}",
              options.solver_steps);
}

StepReport SipTrainer::step(const Tensor& input, const Tensor& target) {
  check_batch("SipTrainer", input, target);
  optimizer_.zero_grad();
  const Tensor x = network_(input);
  const Tensor prediction = x.detach();
  StepReport report;
  report.prediction = prediction;
  Tensor loss, x_tilde;
  {
    // The physics update needs no network derivatives; any numerics are allowed inside it.
    NoGradGuard no_grad;
    Tensor estimate = prediction;
    for (int s = 0; s < options_.solver_steps; ++s) {
      const Tensor y = problem_.forward(estimate);
      if (s == 0) loss = reduce_batch(problem_.loss(y, target), options_.reduction);
      const Tensor dx = problem_.inverse_update(estimate, y, target);
      DPHYS_CHECK(dx.shape() == estimate.shape(), "SipTrainer: inverse_update returned {} for unknowns {}",
                  shape_str(dx.shape()), shape_str(estimate.shape()));
      estimate = estimate + dx;
    }
    x_tilde = estimate;
  }
  const Tensor proxy = reduce_batch(half_squared_distance(x, x_tilde), options_.reduction);
  backward(proxy);
  optimizer_.step();
  // Read last: on a GPU, reading a scalar waits for the device, which then idles while the host queues
  // the rest of the step.
  report.loss = loss.item();
  report.proxy_loss = proxy.item();
  return report;
}

EndToEndTrainer::EndToEndTrainer(nn::Module& network, const PhysicsProblem& problem, Optimizer& optimizer,
                                 BatchReduction reduction)
    : network_(network), problem_(problem), optimizer_(optimizer), reduction_(reduction) {}

Tensor EndToEndTrainer::loss(const Tensor& input, const Tensor& target) {
  return loss_and_prediction(input, target).first;
}

std::pair<Tensor, Tensor> EndToEndTrainer::loss_and_prediction(const Tensor& input, const Tensor& target) {
  check_batch("EndToEndTrainer", input, target);
  const Tensor x = network_(input);
  return {reduce_batch(problem_.loss(problem_.forward(x), target), reduction_), x.detach()};
}

StepReport EndToEndTrainer::step(const Tensor& input, const Tensor& target) {
  optimizer_.zero_grad();
  const auto [l, prediction] = loss_and_prediction(input, target);
  StepReport report;
  report.prediction = prediction;
  backward(l);
  optimizer_.step();
  report.loss = report.proxy_loss = l.item();  // read last, as in SipTrainer::step
  return report;
}

}  // namespace dphys::optim
