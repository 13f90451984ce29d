#include "solvers/oscillators.h"

#include <algorithm>
#include <cmath>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/constant_cache.h"
#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/parallel.h"
#include "solvers/oscillator_chain.h"
#include "solvers/per_example_device.h"

namespace dphys {

namespace {

std::int64_t oscillator_count(const OscillatorConfig& config) {
  const bool finite_weights = std::all_of(config.control_weights.begin(), config.control_weights.end(),
                                          [](double c) { return std::isfinite(c); });
  DPHYS_CHECK(!config.control_weights.empty() && finite_weights && config.dt > 0 &&
                  std::isfinite(config.dt) && std::isfinite(config.coupling),
              "oscillators: invalid configuration (control weights {}, coupling {}, dt={})",
              fmt::join(config.control_weights, ", "), config.coupling, config.dt);
  return static_cast<std::int64_t>(config.control_weights.size());
}

void check_state(const Tensor& state, std::int64_t n, const char* op) {
  DPHYS_CHECK(state.dim() == 2 && state.shape()[1] == 2 * n,
              "{}: state must be [B, {}] (x_1..x_{}, p_1..p_{}), got {}", op, 2 * n, n, n,
              shape_str(state.shape()));
  DPHYS_CHECK(state.dtype() == DType::f32 || state.dtype() == DType::f64,
              "{}: state must be f32 or f64, got {}", op, dtype_name(state.dtype()));
}

// Per-example control values as [B, steps]; the dtype and batch must match the state's.
void check_controls(const Tensor& state, const Tensor& controls, int dim, const char* op) {
  DPHYS_CHECK(controls.dim() == dim && controls.shape()[0] == state.shape()[0] &&
                  (dim == 1 || controls.shape()[1] >= 1),
              "{}: controls must be {} for a state of shape {}, got {}", op,
              dim == 1 ? "[B]" : "[B, steps ≥ 1]", shape_str(state.shape()), shape_str(controls.shape()));
  DPHYS_CHECK(controls.dtype() == state.dtype(), "{}: controls are {} but the state is {}", op,
              dtype_name(controls.dtype()), dtype_name(state.dtype()));
  DPHYS_CHECK(controls.device() == state.device(), "{}: controls are on {} but the state is on {}", op,
              controls.device().str(), state.device().str());
}

// The control weights c as a [n] tensor on `device`, copied there once (engine/constant_cache.h).
Tensor control_weights(const OscillatorConfig& config, DType dtype, Device device) {
  const std::vector<double>& c = config.control_weights;
  return cached_constant(
      fmt::format("oscillator control weights {} {:a}", dtype_name(dtype), fmt::join(c, " ")), device,
      [&] { return from_vector(c, {static_cast<std::int64_t>(c.size())}, dtype); });
}

// The chain's parameters with its control weights on `device` (held by `weights`).
oscillator_chain::Chain chain_on(const OscillatorConfig& config, const Tensor& weights) {
  return {static_cast<std::int64_t>(config.control_weights.size()), config.coupling, config.dt,
          device_data<double>(weights)};
}

Tensor to_f64(const Tensor& x) { return x.dtype() == DType::f64 ? x : cast(x, DType::f64); }

Tensor taped_trajectory(const Tensor& state, const Tensor& controls, const OscillatorConfig& config) {
  std::vector<Tensor> states{state};
  for (std::int64_t k = 0; k < controls.shape()[1]; ++k)
    states.push_back(oscillator_step(states.back(), squeeze(slice(controls, 1, k, k + 1), 1), config));
  return stack(states, 1);
}

}  // namespace

Tensor oscillator_rate(const Tensor& state, const Tensor& control, const OscillatorConfig& config) {
  const std::int64_t n = oscillator_count(config);
  check_state(state, n, "oscillator_rate");
  check_controls(state, control, 1, "oscillator_rate");
  const Tensor x = slice(state, 1, 0, n), p = slice(state, 1, n, 2 * n);
  const Tensor c = control_weights(config, state.dtype(), state.device());
  Tensor force = unsqueeze(control, 1) * c - x;
  if (n > 1) {
    // t_i = k₃(x_{i+1} − x_i)³ pulls oscillator i forward and i+1 back.
    const Tensor t = config.coupling * pow(slice(x, 1, 1, n) - slice(x, 1, 0, n - 1), 3.0);
    force = force + pad(t, {{0, 0}, {0, 1}}) - pad(t, {{0, 0}, {1, 0}});
  }
  return concat({p, force}, 1);
}

Tensor oscillator_step(const Tensor& state, const Tensor& control, const OscillatorConfig& config) {
  const double h = config.dt;
  const Tensor k1 = oscillator_rate(state, control, config);
  const Tensor k2 = oscillator_rate(state + (h / 2) * k1, control, config);
  const Tensor k3 = oscillator_rate(state + (h / 2) * k2, control, config);
  const Tensor k4 = oscillator_rate(state + h * k3, control, config);
  return state + (h / 6) * (k1 + 2.0 * (k2 + k3) + k4);
}

Tensor oscillator_trajectory(const Tensor& state, const Tensor& controls, const OscillatorConfig& config) {
  const std::int64_t n = oscillator_count(config);
  check_state(state, n, "oscillator_trajectory");
  check_controls(state, controls, 2, "oscillator_trajectory");
  const std::int64_t batch = state.shape()[0], steps = controls.shape()[1], m = 2 * n;
  const auto forward = [=](const std::vector<Tensor>& in) {
    const Device device = in[0].device();
    const Tensor s0 = to_f64(in[0]), u = to_f64(in[1]);
    const Tensor weights = control_weights(config, DType::f64, device);
    const Tensor scratch =
        Tensor::empty({batch, oscillator_chain::kScratchPerOscillator * n}, DType::f64, device);
    Tensor out = Tensor::empty({batch, steps + 1, m}, DType::f64, device);
    const oscillator_chain::Chain chain = chain_on(config, weights);
    const double *s_in = device_data<double>(s0), *u_in = device_data<double>(u);
    double *traj = device_data<double>(out), *work = device_data<double>(scratch);
    if (device.is_cpu()) {
      parallel_for(batch, steps * m * 40, [&](std::int64_t b) {
        oscillator_chain::rollout(chain, s_in + b * m, u_in + b * steps, steps, traj + b * (steps + 1) * m,
                                  work + b * oscillator_chain::kScratchPerOscillator * n);
      });
    } else {
      device_kernel::oscillator_rollout(chain, batch, steps, s_in, u_in, traj, work);
    }
    return in[0].dtype() == DType::f64 ? out : cast(out, in[0].dtype());
  };
  const auto backward = [=](const Tensor& g, const std::vector<Tensor>& in, const Tensor& out) {
    if (GradMode::enabled())
      return vjp([&](const std::vector<Tensor>& v) { return taped_trajectory(v[0], v[1], config); }, in, g)
          .second;
    const Device device = out.device();
    const Tensor traj = to_f64(out), u = to_f64(in[1]), cotangent = to_f64(g);
    const Tensor weights = control_weights(config, DType::f64, device);
    const Tensor scratch =
        Tensor::empty({batch, oscillator_chain::kScratchPerOscillator * n}, DType::f64, device);
    Tensor state_grad = Tensor::empty({batch, m}, DType::f64, device),
           control_grad = Tensor::empty({batch, steps}, DType::f64, device);
    const oscillator_chain::Chain chain = chain_on(config, weights);
    const double *s = device_data<double>(traj), *u_in = device_data<double>(u),
                 *g_in = device_data<double>(cotangent);
    double *s_bar = device_data<double>(state_grad), *u_bar = device_data<double>(control_grad),
           *work = device_data<double>(scratch);
    if (device.is_cpu()) {
      parallel_for(batch, steps * m * 80, [&](std::int64_t b) {
        oscillator_chain::adjoint(chain, s + b * (steps + 1) * m, u_in + b * steps,
                                  g_in + b * (steps + 1) * m, steps, s_bar + b * m, u_bar + b * steps,
                                  work + b * oscillator_chain::kScratchPerOscillator * n);
      });
    } else {
      device_kernel::oscillator_adjoint(chain, batch, steps, s, u_in, g_in, s_bar, u_bar, work);
    }
    return std::vector<Tensor>{cast(state_grad, in[0].dtype()), cast(control_grad, in[1].dtype())};
  };
  return custom_op("oscillator_trajectory", {state, controls}, forward, backward);
}

Tensor oscillator_rollout(const Tensor& state, const Tensor& controls, const OscillatorConfig& config) {
  const Tensor trajectory = oscillator_trajectory(state, controls, config);
  return squeeze(slice(trajectory, 1, -1, trajectory.shape()[1]), 1);
}

Tensor oscillator_energy(const Tensor& state, const OscillatorConfig& config) {
  const std::int64_t n = oscillator_count(config);
  check_state(state, n, "oscillator_energy");
  Tensor energy = 0.5 * sum(square(state), {1});
  if (n > 1) {
    const Tensor x = slice(state, 1, 0, n);
    energy = energy + (config.coupling / 4) * sum(pow(slice(x, 1, 1, n) - slice(x, 1, 0, n - 1), 4.0), {1});
  }
  return energy;
}

}  // namespace dphys
