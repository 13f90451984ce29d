#include "solvers/oscillators.h"

#include <algorithm>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/creation.h"
#include "engine/parallel.h"

namespace dphys {

namespace {

std::int64_t oscillator_count(const OscillatorConfig& config) {
  DPHYS_CHECK(!config.control_weights.empty() && config.dt > 0,
              "oscillators: invalid configuration ({} control weights, dt={})", config.control_weights.size(),
              config.dt);
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
}

// Classical RK4: stage k+1 evaluates f at y_{k+1} = s + offset_{k+1}·h·k_k; the step adds h/6·Σ weight_k·k_k.
constexpr double kWeights[4] = {1, 2, 2, 1};
constexpr double kOffsets[4] = {0, 0.5, 0.5, 1};

// The chain on host f64 arrays, for the rollout and its adjoint of one example; it owns the scratch space
// of a step, so make one per example (per thread).
class Chain {
 public:
  explicit Chain(const OscillatorConfig& config)
      : n_(static_cast<std::int64_t>(config.control_weights.size())),
        k3_(config.coupling),
        h_(config.dt),
        c_(config.control_weights),
        rate_(2 * n_),
        sum_(2 * n_),
        next_(2 * n_),
        stages_(8 * n_),
        stage_grads_(8 * n_) {}

  // One RK4 step s -> next, keeping the stage states y_1..y_4 for step_transpose.
  void step(const double* s, double u, double* next) {
    const std::int64_t m = 2 * n_;
    std::fill(rate_.begin(), rate_.end(), 0.0);
    std::fill(sum_.begin(), sum_.end(), 0.0);
    for (int stage = 0; stage < 4; ++stage) {
      double* y = stages_.data() + stage * m;
      for (std::int64_t j = 0; j < m; ++j) y[j] = s[j] + kOffsets[stage] * h_ * rate_[j];
      rate(y, u, rate_.data());
      for (std::int64_t j = 0; j < m; ++j) sum_[j] += kWeights[stage] * rate_[j];
    }
    for (std::int64_t j = 0; j < m; ++j) next[j] = s[j] + h_ / 6 * sum_[j];
  }

  // Reverse of `step` from s: lambda holds the cotangent of the next state on entry and that of s on exit;
  // returns the cotangent of u. The stages are undone from the last one, since y_{k+1} depends on k_k.
  double step_transpose(const double* s, double u, double* lambda) {
    const std::int64_t m = 2 * n_;
    step(s, u, sum_.data());          // recomputes the stage states; the next state itself is not needed
    double* a = stage_grads_.data();  // cotangents of k_1..k_4
    for (int stage = 0; stage < 4; ++stage)
      for (std::int64_t j = 0; j < m; ++j) a[stage * m + j] = h_ / 6 * kWeights[stage] * lambda[j];
    double control = 0;
    for (int stage = 3; stage >= 0; --stage) {
      std::fill(rate_.begin(), rate_.end(), 0.0);
      control += rate_transpose(stages_.data() + stage * m, a + stage * m, rate_.data());
      for (std::int64_t j = 0; j < m; ++j) {
        lambda[j] += rate_[j];
        if (stage > 0) a[(stage - 1) * m + j] += kOffsets[stage] * h_ * rate_[j];
      }
    }
    return control;
  }

 private:
  // ds = f(s, u).
  void rate(const double* s, double u, double* ds) const {
    const double* x = s;
    for (std::int64_t i = 0; i < n_; ++i) {
      double force = -x[i] + c_[i] * u;
      if (i + 1 < n_) force += k3_ * cube(x[i + 1] - x[i]);
      if (i > 0) force += k3_ * cube(x[i - 1] - x[i]);
      ds[i] = s[n_ + i];
      ds[n_ + i] = force;
    }
  }

  // out += (∂f/∂s)ᵀ v at s, and returns (∂f/∂u)ᵀ v = Σ c_i v_{p_i}.
  double rate_transpose(const double* s, const double* v, double* out) const {
    const double* x = s;
    const double* vp = v + n_;
    double control = 0;
    for (std::int64_t i = 0; i < n_; ++i) {
      out[n_ + i] += v[i];
      out[i] -= vp[i];
      control += c_[i] * vp[i];
    }
    // Bond (i, i+1) adds ±k₃(x_{i+1} − x_i)³ to ṗ_i and ṗ_{i+1}; its Hessian block is q·[[−1, 1], [1, −1]].
    for (std::int64_t i = 0; i + 1 < n_; ++i) {
      const double q = 3 * k3_ * (x[i + 1] - x[i]) * (x[i + 1] - x[i]);
      out[i] += q * (vp[i + 1] - vp[i]);
      out[i + 1] += q * (vp[i] - vp[i + 1]);
    }
    return control;
  }

  static double cube(double v) { return v * v * v; }

  std::int64_t n_;
  double k3_, h_;
  const std::vector<double>& c_;
  std::vector<double> rate_, sum_, next_, stages_, stage_grads_;
};

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
  const Tensor c = from_vector(config.control_weights, {n}, state.dtype());
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
    const Tensor s0 = to_f64(in[0]), u = to_f64(in[1]);
    Tensor out = Tensor::empty({batch, steps + 1, m}, DType::f64);
    const double *s_in = s0.data<double>(), *u_in = u.data<double>();
    double* traj = out.data<double>();
    parallel_for(batch, steps * m * 40, [&](std::int64_t b) {
      Chain chain(config);
      double* s = traj + b * (steps + 1) * m;
      std::copy(s_in + b * m, s_in + (b + 1) * m, s);
      for (std::int64_t k = 0; k < steps; ++k) chain.step(s + k * m, u_in[b * steps + k], s + (k + 1) * m);
    });
    return in[0].dtype() == DType::f64 ? out : cast(out, in[0].dtype());
  };
  const auto backward = [=](const Tensor& g, const std::vector<Tensor>& in, const Tensor& out) {
    if (GradMode::enabled())
      return vjp([&](const std::vector<Tensor>& v) { return taped_trajectory(v[0], v[1], config); }, in, g)
          .second;
    const Tensor traj = to_f64(out), u = to_f64(in[1]), cotangent = to_f64(g);
    Tensor state_grad = Tensor::empty({batch, m}, DType::f64),
           control_grad = Tensor::empty({batch, steps}, DType::f64);
    const double *s = traj.data<double>(), *u_in = u.data<double>(), *g_in = cotangent.data<double>();
    double *s_bar = state_grad.data<double>(), *u_bar = control_grad.data<double>();
    parallel_for(batch, steps * m * 80, [&](std::int64_t b) {
      Chain chain(config);
      const double* s_b = s + b * (steps + 1) * m;
      const double* g_b = g_in + b * (steps + 1) * m;
      double* lambda = s_bar + b * m;
      std::copy(g_b + steps * m, g_b + (steps + 1) * m, lambda);
      for (std::int64_t k = steps - 1; k >= 0; --k) {
        u_bar[b * steps + k] = chain.step_transpose(s_b + k * m, u_in[b * steps + k], lambda);
        for (std::int64_t j = 0; j < m; ++j) lambda[j] += g_b[k * m + j];
      }
    });
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
