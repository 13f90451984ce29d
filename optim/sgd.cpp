#include "optim/sgd.h"

#include <cmath>

#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

std::vector<std::string> sgd_slots(const SGDOptions& options) {
  if (options.momentum == 0.0) return {};
  return {"momentum_buffer"};
}

}  // namespace

SGD::SGD(std::vector<Tensor> parameters, const SGDOptions& options)
    : Optimizer(std::move(parameters), options.lr, sgd_slots(options)), options_(options) {
  DPHYS_CHECK(std::isfinite(options.momentum) && options.momentum >= 0.0, "SGD: momentum {} must be >= 0",
              options.momentum);
  DPHYS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0,
              "SGD: weight_decay {} must be >= 0", options.weight_decay);
  DPHYS_CHECK(!options.nesterov || options.momentum > 0.0, "SGD: Nesterov momentum needs momentum > 0");
}

void SGD::update(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  Tensor direction = options_.weight_decay != 0.0 ? grad + options_.weight_decay * param : grad;
  if (options_.momentum != 0.0) {
    if (slots.empty()) {
      slots.push_back(direction.clone());
    } else {
      slots[0].mul_(options_.momentum);
      slots[0].add_(direction);
    }
    direction = options_.nesterov ? direction + options_.momentum * slots[0] : slots[0];
  }
  param.add_(direction, -lr());
}

}  // namespace dphys::optim
