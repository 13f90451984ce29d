#include "methods.h"

#include <algorithm>

#include "../common/checkpoint.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/error.h"
#include "nn/architectures.h"
#include "nn/serialize.h"
#include "optim/adahessian.h"
#include "optim/adam.h"
#include "optim/hessian_free.h"
#include "optim/sgd.h"

namespace dphys::app {

namespace {

// The U-net in f32 on [B, 1, 64, 64], with the spec's mean correction (§2.5.4: the output is shifted to the
// mean of y*, which diffusion preserves), handing the physics x as [B, 64, 64] f64.
class HeatNetwork : public nn::Module {
 public:
  explicit HeatNetwork(Generator& gen) : unet_(register_module("unet", nn::make_sip_heat_unet(gen))) {}
  Tensor forward(const Tensor& observed) override {
    const Tensor raw = (*unet_)(observed);
    const Tensor corrected = raw + (mean(observed, {1, 2, 3}, true) - mean(raw, {1, 2, 3}, true));
    return reshape(cast(corrected, DType::f64), {observed.shape()[0], kHeatGrid, kHeatGrid});
  }

 private:
  std::shared_ptr<nn::Module> unet_;
};

Tensor network_input(const Tensor& y_star) {
  return reshape(cast(y_star, DType::f32), {y_star.shape()[0], 1, kHeatGrid, kHeatGrid});
}

}  // namespace

const std::vector<std::string>& heat_method_names() {
  static const std::vector<std::string> names{"sip", "adam", "sgd", "adahessian", "hessian_free"};
  return names;
}

struct HeatMethod::Parts {
  explicit Parts(Generator&& init) : network(init) {}
  HeatNetwork network;
  const HeatProblem problem;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::HessianFree> hessian_free;
};

HeatMethod::HeatMethod(const std::string& name, const HeatMethodOptions& options)
    : name_(name), parts_(std::make_unique<Parts>(Generator(options.seed))) {
  const auto& names = heat_method_names();
  DPHYS_CHECK(std::find(names.begin(), names.end(), name) != names.end(),
              "sip_heat: unknown method '{}' (choose from {})", name, fmt::join(names, ", "));
  parts_->network.to(options.device);  // before the optimizers make their state from the parameters
  const std::vector<Tensor> parameters = parts_->network.parameters();
  if (name == "sgd") {
    parts_->optimizer = std::make_unique<optim::SGD>(parameters, optim::SGDOptions{options.lr});
  } else if (name == "adahessian") {
    optim::AdaHessianOptions adahessian;  // sip.md 1.x: β = (0.9, 0.999), ε = 1e-4, Hessian power 0.5
    adahessian.lr = options.lr;
    adahessian.seed = options.seed;
    parts_->optimizer = std::make_unique<optim::AdaHessian>(parameters, adahessian);
  } else if (name == "hessian_free") {
    optim::HessianFreeOptions hessian_free;  // lr 1.0 with adaptive damping (sip.md 2.5.5)
    hessian_free.lr = options.lr;
    hessian_free.cg_max_iterations = static_cast<int>(options.hf_cg_iterations);
    parts_->hessian_free = std::make_unique<optim::HessianFree>(parameters, hessian_free);
  } else {
    parts_->optimizer = std::make_unique<optim::Adam>(parameters, optim::AdamOptions{options.lr});
  }
}

HeatMethod::~HeatMethod() = default;

optim::StepReport HeatMethod::step(const Tensor& y_star) {
  HeatNetwork& network = parts_->network;
  const HeatProblem& problem = parts_->problem;
  const Tensor input = network_input(y_star);
  if (name_ == "sip") return optim::SipTrainer(network, problem, *parts_->optimizer).step(input, y_star);
  if (name_ == "adam" || name_ == "sgd")
    return optim::EndToEndTrainer(network, problem, *parts_->optimizer).step(input, y_star);
  // The loss of the end-to-end second-order baselines: Σ_b ½‖P(NN(y*_b)) − y*_b‖² (sip.md 2.5.1), through
  // physics and network; the first evaluation is the pre-update prediction.
  Tensor prediction;
  const auto loss = [&] {
    const Tensor x = network(input);
    if (!prediction.defined()) prediction = x.detach();
    return sum(problem.loss(problem.forward(x), y_star));
  };
  optim::StepReport report;
  report.loss = name_ == "adahessian" ? static_cast<optim::AdaHessian&>(*parts_->optimizer).step(loss)
                                      : parts_->hessian_free->step(loss).loss;
  report.proxy_loss = report.loss;
  report.prediction = prediction;
  return report;
}

Tensor HeatMethod::predict(const Tensor& y_star) {
  NoGradGuard no_grad;
  return maximum(parts_->network(network_input(y_star)), scalar(0.0, DType::f64, y_star.device()));
}

NamedTensors HeatMethod::state() const {
  NamedTensors out;
  append_prefixed("net.", nn::module_state(parts_->network), out);
  append_prefixed("optim.", parts_->hessian_free ? parts_->hessian_free->state() : parts_->optimizer->state(),
                  out);
  return out;
}

void HeatMethod::load_state(const NamedTensors& state, const std::string& source) {
  for (const auto& [name, tensor] : state)
    DPHYS_CHECK(name.rfind("net.", 0) == 0 || name.rfind("optim.", 0) == 0,
                "sip_heat: {}: unexpected entry '{}' for method {}", source, name, name_);
  // The optimizers keep their state where the parameters are (their scalars are read from anywhere).
  const Device device = parts_->network.parameters().front().device();
  NamedTensors optimizer_state = entries_under("optim.", state);
  for (auto& [name, tensor] : optimizer_state) tensor = tensor.to(device);
  if (parts_->hessian_free) {
    parts_->hessian_free->load_state(optimizer_state);
  } else {
    parts_->optimizer->load_state(optimizer_state);
  }
  nn::load_module_state(parts_->network, entries_under("net.", state), source);
}

}  // namespace dphys::app
