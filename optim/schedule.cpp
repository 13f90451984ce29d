#include "optim/schedule.h"

#include <cmath>

namespace dphys::optim {

Schedule::Schedule(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

void Schedule::step() {
  ++steps_;
  optimizer_.set_lr(lr_at(steps_));
}

double ConstantSchedule::lr_at(std::int64_t) const { return base_lr(); }

StepSchedule::StepSchedule(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : Schedule(optimizer), step_size_(step_size), gamma_(gamma) {
  DPHYS_CHECK(step_size > 0, "StepSchedule: step_size {} must be > 0", step_size);
  DPHYS_CHECK(std::isfinite(gamma) && gamma >= 0.0, "StepSchedule: gamma {} must be >= 0", gamma);
}

double StepSchedule::lr_at(std::int64_t t) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(t / step_size_));
}

CosineSchedule::CosineSchedule(Optimizer& optimizer, std::int64_t t_max, double eta_min)
    : Schedule(optimizer), t_max_(t_max), eta_min_(eta_min) {
  DPHYS_CHECK(t_max > 0, "CosineSchedule: t_max {} must be > 0", t_max);
  DPHYS_CHECK(std::isfinite(eta_min) && eta_min >= 0.0, "CosineSchedule: eta_min {} must be >= 0", eta_min);
}

double CosineSchedule::lr_at(std::int64_t t) const {
  const double pi = std::acos(-1.0);
  return eta_min_ + (base_lr() - eta_min_) * (1.0 + std::cos(pi * static_cast<double>(t) / t_max_)) / 2.0;
}

}  // namespace dphys::optim
