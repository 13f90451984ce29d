#pragma once
// Learning-rate schedules (PyTorch's lr_scheduler): constructed after the optimizer, they take its current
// learning rate as the base and write lr(t) into it on every step(), where t counts step() calls. Call
// step() once per epoch or iteration, after optimizer.step().
#include <cstdint>

#include "optim/optimizer.h"

namespace dphys::optim {

class Schedule {
 public:
  explicit Schedule(Optimizer& optimizer);
  virtual ~Schedule() = default;
  // The learning rate after t steps of the schedule.
  virtual double lr_at(std::int64_t t) const = 0;
  // Advances t by one and sets the optimizer's learning rate to lr_at(t).
  void step();
  std::int64_t steps() const { return steps_; }
  double base_lr() const { return base_lr_; }

 private:
  Optimizer& optimizer_;
  double base_lr_;
  std::int64_t steps_ = 0;
};

// lr_at(t) = base_lr.
class ConstantSchedule : public Schedule {
 public:
  explicit ConstantSchedule(Optimizer& optimizer) : Schedule(optimizer) {}
  double lr_at(std::int64_t t) const override;
};

// PyTorch's StepLR: lr_at(t) = base_lr · gamma^⌊t / step_size⌋.
class StepSchedule : public Schedule {
 public:
  StepSchedule(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);
  double lr_at(std::int64_t t) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

// PyTorch's CosineAnnealingLR in closed form (SGDR, Loshchilov & Hutter 2017, Eq. 5, without restarts):
// lr_at(t) = eta_min + (base_lr − eta_min)·(1 + cos(π·t / t_max)) / 2. Past t_max the cosine continues, so
// the rate rises again, as PyTorch's does.
class CosineSchedule : public Schedule {
 public:
  CosineSchedule(Optimizer& optimizer, std::int64_t t_max, double eta_min = 0.0);
  double lr_at(std::int64_t t) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

}  // namespace dphys::optim
