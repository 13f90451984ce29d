#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autodiff/grad_mode.h"
#include "engine/creation.h"

namespace dphys::optim {

namespace {

// Splits "param.<i>.<slot>" into i and slot; false for any other name.
bool parse_slot_name(const std::string& name, std::size_t& index, std::string& slot) {
  const std::string prefix = "param.";
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot + 1 == name.size()) return false;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return false;
  index = std::stoul(digits);
  slot = name.substr(dot + 1);
  return true;
}

void check_lr(double lr, const char* op) {
  DPHYS_CHECK(std::isfinite(lr) && lr >= 0.0, "{}: learning rate {} must be finite and >= 0", op, lr);
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> parameters, double lr, std::vector<std::string> slot_names)
    : parameters_(std::move(parameters)),
      lr_(lr),
      slot_names_(std::move(slot_names)),
      slots_(parameters_.size()) {
  check_lr(lr, "Optimizer");
  DPHYS_CHECK(!parameters_.empty(), "Optimizer: the parameter list is empty: step() would update nothing");
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& p = parameters_[i];
    DPHYS_CHECK(p.defined(), "Optimizer: parameter {} is an undefined tensor", i);
    DPHYS_CHECK(p.requires_grad() && p.is_leaf(),
                "Optimizer: parameter {} (shape {}, {}) is not a leaf that requires grad, so it never gets a "
                "gradient; call requires_grad_() on it",
                i, shape_str(p.shape()), dtype_name(p.dtype()));
    DPHYS_CHECK(is_floating(p.dtype()) && !is_complex(p.dtype()),
                "Optimizer: parameter {} has dtype {}; expected f32 or f64", i, dtype_name(p.dtype()));
    // Listed twice, a tensor was updated twice per step.
    for (std::size_t j = 0; j < i; ++j)
      DPHYS_CHECK(parameters_[j].storage() != p.storage(),
                  "Optimizer: parameters {} and {} share their storage (the same tensor listed twice?)", j, i);
  }
}

void Optimizer::set_lr(double lr) {
  check_lr(lr, "Optimizer::set_lr");
  lr_ = lr;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& p = parameters_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    DPHYS_CHECK(g.shape() == p.shape(), "Optimizer::step: gradient of parameter {} has shape {}, expected {}",
                i, shape_str(g.shape()), shape_str(p.shape()));
    update(p, g, slots_[i]);
    DPHYS_CHECK(slots_[i].size() == slot_names_.size(),
                "Optimizer::step: update left {} state slots for parameter {}, expected {}", slots_[i].size(),
                i, slot_names_.size());
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : parameters_) p.zero_grad();
}

Shape Optimizer::slot_shape(std::size_t, const Tensor& param) const { return param.shape(); }

DType Optimizer::slot_dtype(std::size_t, const Tensor& param) const { return param.dtype(); }

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("lr", scalar(lr_, DType::f64));
  for (std::size_t i = 0; i < slots_.size(); ++i)
    for (std::size_t s = 0; s < slots_[i].size(); ++s)
      out.emplace_back("param." + std::to_string(i) + "." + slot_names_[s], slots_[i][s].clone());
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  double lr = -1.0;
  bool have_lr = false;
  std::vector<std::vector<Tensor>> slots(parameters_.size(), std::vector<Tensor>(slot_names_.size()));
  for (const auto& [name, tensor] : state) {
    DPHYS_CHECK(tensor.defined(), "Optimizer::load_state: entry '{}' is an undefined tensor", name);
    if (name == "lr") {
      DPHYS_CHECK(!have_lr, "Optimizer::load_state: 'lr' appears twice");
      DPHYS_CHECK(tensor.shape().empty() && tensor.dtype() == DType::f64,
                  "Optimizer::load_state: 'lr' has shape {} and dtype {}, expected a 0-d f64 tensor",
                  shape_str(tensor.shape()), dtype_name(tensor.dtype()));
      lr = tensor.item();
      check_lr(lr, "Optimizer::load_state");
      have_lr = true;
      continue;
    }
    std::size_t index = 0;
    std::string slot;
    DPHYS_CHECK(parse_slot_name(name, index, slot),
                "Optimizer::load_state: unexpected entry '{}'; expected 'lr' or 'param.<index>.<slot>'",
                name);
    DPHYS_CHECK(index < parameters_.size(),
                "Optimizer::load_state: entry '{}' names parameter {}, but there are {}", name, index,
                parameters_.size());
    const auto found = std::find(slot_names_.begin(), slot_names_.end(), slot);
    DPHYS_CHECK(found != slot_names_.end(),
                "Optimizer::load_state: entry '{}': this optimizer has no state '{}'", name, slot);
    const auto s = static_cast<std::size_t>(found - slot_names_.begin());
    DPHYS_CHECK(!slots[index][s].defined(), "Optimizer::load_state: entry '{}' appears twice", name);
    const Tensor& p = parameters_[index];
    const Shape shape = slot_shape(s, p);
    const DType dtype = slot_dtype(s, p);
    DPHYS_CHECK(tensor.shape() == shape && tensor.dtype() == dtype,
                "Optimizer::load_state: entry '{}' has shape {} and dtype {}, expected shape {} and dtype {}",
                name, shape_str(tensor.shape()), dtype_name(tensor.dtype()), shape_str(shape),
                dtype_name(dtype));
    DPHYS_CHECK(tensor.device() == p.device(),
                "Optimizer::load_state: entry '{}' is on {}, parameter {} on {}", name, tensor.device().str(),
                index, p.device().str());
    slots[index][s] = tensor.clone();
  }
  DPHYS_CHECK(have_lr, "Optimizer::load_state: the state has no 'lr' entry");
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const auto present =
        std::count_if(slots[i].begin(), slots[i].end(), [](const Tensor& t) { return t.defined(); });
    if (present == 0) {
      slots[i].clear();
      continue;
    }
    for (std::size_t s = 0; s < slot_names_.size(); ++s)
      DPHYS_CHECK(slots[i][s].defined(),
                  "Optimizer::load_state: parameter {} has some state but no 'param.{}.{}'", i, i,
                  slot_names_[s]);
  }
  lr_ = lr;
  slots_ = std::move(slots);
}

}  // namespace dphys::optim
