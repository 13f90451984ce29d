#pragma once
// The training methods of the SIP heat experiment. Each has its own U-net, initialised from one seed (so
// every method starts from the same weights), its optimizer and its update rule, and hands its state to
// checkpoints.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "heat_data.h"
#include "nn/module.h"
#include "optim/trainers.h"

namespace dphys::app {

using nn::NamedTensors;

// The names accepted, in the order the app lists them.
const std::vector<std::string>& heat_method_names();

struct HeatMethodOptions {
  double lr = 1e-3;
  std::uint64_t seed = 0;               // the network's initialisation
  std::int64_t hf_cg_iterations = 250;  // Hessian-free only
  Device device = Device::cpu();
};

class HeatMethod {
 public:
  // `name` is one of heat_method_names().
  HeatMethod(const std::string& name, const HeatMethodOptions& options);
  ~HeatMethod();
  HeatMethod(const HeatMethod&) = delete;
  HeatMethod& operator=(const HeatMethod&) = delete;
  const std::string& name() const { return name_; }

  // One training step on a batch of observations y* ([B, 64, 64] f64, on the method's device): the loss
  // before the update and the prediction x ([B, 64, 64] f64) it was computed from.
  optim::StepReport step(const Tensor& y_star);
  // The network's x for y* without recording, clipped to ≥ 0 as in the authors' evaluation (§2.5.6), with
  // train-mode batch statistics, since the reference never switches the U-nets to evaluation mode (§1.10).
  Tensor predict(const Tensor& y_star);

  // Everything the method's later steps depend on: "net.<name>" for the network's parameters and buffers,
  // "optim.<name>" for the optimizer's state (AdaHessian's probe stream and Hessian-free's damping and CG
  // warm start included).
  NamedTensors state() const;
  // Restores state(); `source` names the checkpoint in errors.
  void load_state(const NamedTensors& state, const std::string& source);

 private:
  struct Parts;
  std::string name_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace dphys::app
