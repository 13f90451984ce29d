#include "optim/bfgs.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "optim/more_thuente.h"

namespace dphys::optim {

namespace {

std::vector<double> host(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

// How a quasi-Newton method turns gradients into directions, batched over problems.
class InverseHessian {
 public:
  virtual ~InverseHessian() = default;
  // −H·g for every problem, [B, d].
  virtual Tensor direction(const Tensor& g) const = 0;
  // Takes in the step s = x_{k+1} − x_k and y = g_{k+1} − g_k ([B, d]) of the problems with stepped[b].
  virtual void update(const Tensor& s, const Tensor& y, const std::vector<bool>& stepped) = 0;
};

class DenseInverseHessian : public InverseHessian {
 public:
  DenseInverseHessian(std::int64_t batch, std::int64_t d, DType dtype, Device device) {
    const Tensor i = arange(0, static_cast<double>(d), 1, dtype, device);
    h_ = broadcast_to(eq(reshape(i, {d, 1}), reshape(i, {1, d})), {batch, d, d});
  }

  Tensor direction(const Tensor& g) const override { return -squeeze(matmul(h_, unsqueeze(g, 2)), 2); }

  // (I − ρ·s·yᵀ)·H·(I − ρ·y·sᵀ) + ρ·s·sᵀ expanded with H symmetric: H − ρ·(s·(Hy)ᵀ + Hy·sᵀ) +
  // (ρ²·yᵀHy + ρ)·s·sᵀ, O(d²) per problem instead of O(d³). ρ = 0 leaves H exactly as it was, which is
  // how problems that did not step keep theirs.
  void update(const Tensor& s, const Tensor& y, const std::vector<bool>& stepped) override {
    const std::int64_t batch = s.size(0);
    const std::vector<double> ys = host(sum(y * s, {1}));
    std::vector<double> rho(batch, 0.0);
    for (std::int64_t b = 0; b < batch; ++b)
      if (stepped[b]) rho[b] = ys[b] == 0 ? 1000.0 : 1.0 / ys[b];  // SciPy's guard against yᵀs = 0
    const Tensor r = from_vector(rho, {batch, 1, 1}, s.dtype(), s.device());
    const Tensor hy = matmul(h_, unsqueeze(y, 2));
    const Tensor yhy = reshape(sum(y * squeeze(hy, 2), {1}), {batch, 1, 1});
    const Tensor s_col = unsqueeze(s, 2), s_row = unsqueeze(s, 1);
    h_ = h_ - r * (s_col * transpose(hy) + hy * s_row) + (r * r * yhy + r) * (s_col * s_row);
  }

 private:
  Tensor h_;  // [B, d, d]
};

// The two-loop recursion (N&W Algorithm 7.4), batched. Each problem keeps its own ring of the newest
// `memory` pairs, since problems step at different rounds: slot j of problem b is row j·B + b of s_ and y_.
// Step k of the recursion gathers every problem's k-th newest pair; problems with fewer pairs get ρ = 0
// there, which passes q and r through unchanged.
class LimitedInverseHessian : public InverseHessian {
 public:
  LimitedInverseHessian(std::int64_t batch, std::int64_t d, int memory, DType dtype, Device device)
      : batch_(batch),
        memory_(memory),
        s_(zeros({memory * batch, d}, dtype, device)),
        y_(zeros({memory * batch, d}, dtype, device)),
        rho_(memory * batch, 0.0),
        gamma_(batch, 1.0),
        newest_(batch, 0),
        count_(batch, 0) {}

  Tensor direction(const Tensor& g) const override {
    const int depth = *std::max_element(count_.begin(), count_.end());
    std::vector<Tensor> s(depth), y(depth), rho(depth), alpha(depth);
    Tensor q = g;
    for (int k = 0; k < depth; ++k) {
      std::vector<std::int64_t> rows(batch_);
      std::vector<double> rho_k(batch_, 0.0);
      for (std::int64_t b = 0; b < batch_; ++b) {
        rows[b] = ((newest_[b] - k + memory_) % memory_) * batch_ + b;
        if (k < count_[b]) rho_k[b] = rho_[rows[b]];
      }
      const Tensor index = from_indices(rows, {batch_}, g.device());
      s[k] = index_select(s_, 0, index);
      y[k] = index_select(y_, 0, index);
      rho[k] = from_vector(rho_k, {batch_, 1}, g.dtype(), g.device());
      alpha[k] = rho[k] * sum(s[k] * q, {1}, true);
      q = q - alpha[k] * y[k];
    }
    Tensor r = from_vector(gamma_, {batch_, 1}, g.dtype(), g.device()) * q;
    for (int k = depth - 1; k >= 0; --k) r = r + s[k] * (alpha[k] - rho[k] * sum(y[k] * r, {1}, true));
    return -r;
  }

  void update(const Tensor& s, const Tensor& y, const std::vector<bool>& stepped) override {
    const std::vector<double> ys = host(sum(y * s, {1})), yy = host(sum(y * y, {1}));
    std::vector<double> write(memory_ * batch_, 0.0);
    bool any = false;
    for (std::int64_t b = 0; b < batch_; ++b) {
      if (!stepped[b] || !(ys[b] > 0)) continue;
      newest_[b] = count_[b] == 0 ? 0 : (newest_[b] + 1) % memory_;
      count_[b] = std::min(count_[b] + 1, memory_);
      const std::int64_t row = newest_[b] * batch_ + b;
      rho_[row] = 1.0 / ys[b];
      gamma_[b] = ys[b] / yy[b];  // N&W Eq. 7.20
      write[row] = 1.0;
      any = true;
    }
    if (!any) return;
    const std::int64_t d = s.size(1);
    const Tensor mask = from_vector(write, {memory_ * batch_, 1}, s.dtype(), s.device());
    const auto tiled = [&](const Tensor& t) {
      return reshape(broadcast_to(unsqueeze(t, 0), {memory_, batch_, d}), {memory_ * batch_, d});
    };
    s_ = where(mask, tiled(s), s_);
    y_ = where(mask, tiled(y), y_);
  }

 private:
  std::int64_t batch_;
  int memory_;
  Tensor s_, y_;               // [memory·B, d]
  std::vector<double> rho_;    // 1 / yᵀs per slot
  std::vector<double> gamma_;  // H₀ scale per problem
  std::vector<int> newest_;    // slot of the newest pair per problem
  std::vector<int> count_;     // pairs held per problem
};

// Losses [B] and gradients [B, d] at x for the problems marked in `which` (other rows: zeros).
using Evaluate = std::function<std::pair<Tensor, Tensor>(const Tensor& x, const std::vector<bool>& which)>;

Evaluate whole_batch(const BatchedObjective& f) {
  return [&f](const Tensor& x, const std::vector<bool>&) { return batched_value_and_grad(f, x); };
}

Evaluate running_rows(const SubsetObjective& f) {
  return [&f](const Tensor& x, const std::vector<bool>& which) -> std::pair<Tensor, Tensor> {
    std::vector<std::int64_t> rows;
    for (std::size_t b = 0; b < which.size(); ++b)
      if (which[b]) rows.push_back(static_cast<std::int64_t>(b));
    const std::int64_t batch = x.size(0), count = static_cast<std::int64_t>(rows.size());
    const Tensor index = from_indices(rows, {count}, x.device());
    const BatchedObjective subset = [&](const Tensor& xs) {
      const Tensor losses = f(xs, rows);
      DPHYS_CHECK(losses.dim() == 1 && losses.size(0) == count,
                  "bfgs: the subset objective returned shape {} for {} rows; expected [{}]",
                  shape_str(losses.shape()), count, count);
      return losses;
    };
    const auto [loss, grad] = batched_value_and_grad(subset, index_select(x, 0, index));
    if (count == batch) return {loss, grad};
    const Tensor grad_index = broadcast_to(unsqueeze(index, 1), grad.shape());
    return {scatter_add(zeros({batch}, x.dtype(), x.device()), 0, index, loss),
            scatter_add(zeros_like(x), 0, grad_index, grad)};
  };
}

// The driver shared by BFGS and L-BFGS. Problems run asynchronously in lock-step rounds: every round
// evaluates the current trial point of every running problem in one batched call, and a problem whose line
// search ends takes its step, updates its inverse Hessian and starts its next search for the following
// round, whatever the others are doing. A problem's trajectory is thus exactly what it would be alone, and
// the number of rounds is that of the slowest problem, not the sum over iterations of the slowest search.
QuasiNewtonResult minimize(const Evaluate& evaluate, const Tensor& x0, const BfgsOptions& options,
                           InverseHessian& model) {
  const std::int64_t batch = x0.size(0), d = x0.size(1);
  const DType dtype = x0.dtype();
  const int max_iterations = options.max_iterations < 0 ? static_cast<int>(200 * d) : options.max_iterations;
  NoGradGuard no_grad;
  Tensor x = x0.detach(), loss, g;
  std::tie(loss, g) = evaluate(x, std::vector<bool>(batch, true));
  QuasiNewtonResult result;
  result.rounds = 1;
  result.problems.resize(batch);
  std::vector<double> f_now = host(loss), g_norm = host(max(abs(g), {1}));
  // SciPy's f_{−1}: makes the first trial step move about min(‖g_0‖₂, 1.01) in x.
  std::vector<double> f_prev = host(norm(g, {1}));
  for (std::int64_t b = 0; b < batch; ++b) {
    f_prev[b] = f_now[b] + f_prev[b] / 2;
    result.problems[b].evaluations = 1;
  }
  std::vector<bool> running(batch, true);
  std::vector<ScipyWolfeSearch> searches(batch);
  Tensor p = zeros_like(x);
  const auto rows = [&](const std::vector<bool>& which) {
    return from_vector(std::vector<double>(which.begin(), which.end()), {batch, 1}, dtype, x.device());
  };

  // Stops problem b if it is done; true if it goes on.
  const auto goes_on = [&](std::int64_t b) {
    QuasiNewtonRecord& r = result.problems[b];
    if (!std::isfinite(f_now[b]) || !std::isfinite(g_norm[b])) {
      r.reason = StopReason::non_finite;
    } else if (g_norm[b] <= options.gtol) {
      r.reason = StopReason::converged;
    } else if (r.iterations >= max_iterations) {
      r.reason = StopReason::max_iterations;
    } else if (options.max_evaluations >= 0 && r.evaluations >= options.max_evaluations) {
      r.reason = StopReason::max_evaluations;
    } else {
      return true;
    }
    running[b] = false;
    return false;
  };
  // A new direction and line search for each problem in `starting`, from its current point. The first trial
  // step is SciPy's: min(1, 1.01·2·(f_k − f_{k−1}) / gᵀp), or 1 where that is negative.
  const auto start_searches = [&](const std::vector<bool>& starting) {
    p = where(rows(starting), model.direction(g), p);
    const std::vector<double> slope = host(sum(g * p, {1}));
    for (std::int64_t b = 0; b < batch; ++b) {
      if (!starting[b]) continue;
      double first = 1.0;
      if (slope[b] != 0) first = std::min(1.0, 1.01 * 2 * (f_now[b] - f_prev[b]) / slope[b]);
      if (first < 0) first = 1.0;
      searches[b].begin(f_now[b], slope[b], first, options.line_search);
      if (!searches[b].searching()) {
        result.problems[b].reason = StopReason::line_search_failed;
        running[b] = false;
      }
    }
  };

  std::vector<bool> starting(batch);
  for (std::int64_t b = 0; b < batch; ++b) starting[b] = goes_on(b);
  start_searches(starting);
  while (std::find(running.begin(), running.end(), true) != running.end()) {
    std::vector<double> alpha(batch, 0.0);
    for (std::int64_t b = 0; b < batch; ++b)
      if (running[b]) alpha[b] = searches[b].trial();
    const Tensor trial_x = where(rows(running), x + from_vector(alpha, {batch, 1}, dtype, x.device()) * p, x);
    const auto [phi, g_trial] = evaluate(trial_x, running);
    ++result.rounds;
    const std::vector<double> phi_host = host(phi), dphi_host = host(sum(g_trial * p, {1}));
    std::vector<bool> accepted(batch, false);
    bool any_accepted = false;
    for (std::int64_t b = 0; b < batch; ++b) {
      if (!running[b]) continue;
      ++result.problems[b].evaluations;
      searches[b].observe(phi_host[b], dphi_host[b]);
      if (searches[b].succeeded()) {
        accepted[b] = any_accepted = true;
      } else if (!searches[b].searching()) {
        result.problems[b].reason = StopReason::line_search_failed;
        running[b] = false;
      }
    }
    if (!any_accepted) continue;
    const Tensor take = rows(accepted), none = zeros_like(x);
    model.update(where(take, trial_x - x, none), where(take, g_trial - g, none), accepted);
    x = where(take, trial_x, x);
    g = where(take, g_trial, g);
    loss = where(reshape(take, {batch}), phi, loss);
    g_norm = host(max(abs(g), {1}));
    for (std::int64_t b = 0; b < batch; ++b) {
      starting[b] = false;
      if (!accepted[b]) continue;
      ++result.problems[b].iterations;
      f_prev[b] = f_now[b];
      f_now[b] = phi_host[b];
      starting[b] = goes_on(b);
    }
    start_searches(starting);
  }
  for (std::int64_t b = 0; b < batch; ++b) {
    result.problems[b].loss = f_now[b];
    result.problems[b].grad_norm = g_norm[b];
  }
  result.x = x;
  result.loss = loss;
  result.grad = g;
  return result;
}

void check_start(const char* name, const Tensor& x0, const BfgsOptions& options) {
  DPHYS_CHECK(
      x0.dim() == 2 && x0.size(0) > 0 && x0.size(1) > 0 && is_floating(x0.dtype()) && !is_complex(x0.dtype()),
      "{}: expected a real floating x0 of shape [B, d], got shape {} and dtype {}", name,
      shape_str(x0.shape()), dtype_name(x0.dtype()));
  // Unchecked, these ended problems as line_search_failed with 0 iterations (or turned the sufficient-
  // decrease test off, for c1 = NaN) instead of saying what is wrong.
  const LineSearchOptions& l = options.line_search;
  DPHYS_CHECK(std::isfinite(options.gtol) && options.gtol >= 0, "{}: gtol {} must be finite and >= 0", name,
              options.gtol);
  DPHYS_CHECK(0 < l.c1 && l.c1 < l.c2 && l.c2 < 1,
              "{}: the line search needs 0 < c1 < c2 < 1, got c1={} c2={}", name, l.c1, l.c2);
  DPHYS_CHECK(l.min_step > 0 && l.min_step < l.max_step && std::isfinite(l.min_step) && l.xtol >= 0 &&
                  std::isfinite(l.xtol),
              "{}: the line search needs 0 < min_step < max_step and a finite xtol >= 0, got min_step={} "
              "max_step={} xtol={}",
              name, l.min_step, l.max_step, l.xtol);
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::converged:
      return "converged";
    case StopReason::max_iterations:
      return "max_iterations";
    case StopReason::max_evaluations:
      return "max_evaluations";
    case StopReason::line_search_failed:
      return "line_search_failed";
    case StopReason::non_finite:
      return "non_finite";
  }
  return "unknown";
}

QuasiNewtonResult bfgs_minimize(const BatchedObjective& f, const Tensor& x0, const BfgsOptions& options) {
  check_start("bfgs_minimize", x0, options);
  DenseInverseHessian model(x0.size(0), x0.size(1), x0.dtype(), x0.device());
  return minimize(whole_batch(f), x0, options, model);
}

QuasiNewtonResult bfgs_minimize(const SubsetObjective& f, const Tensor& x0, const BfgsOptions& options) {
  check_start("bfgs_minimize", x0, options);
  DenseInverseHessian model(x0.size(0), x0.size(1), x0.dtype(), x0.device());
  return minimize(running_rows(f), x0, options, model);
}

QuasiNewtonResult lbfgs_minimize(const BatchedObjective& f, const Tensor& x0, const LbfgsOptions& options) {
  check_start("lbfgs_minimize", x0, options);
  DPHYS_CHECK(options.memory >= 1, "lbfgs_minimize: memory must be at least 1, got {}", options.memory);
  LimitedInverseHessian model(x0.size(0), x0.size(1), options.memory, x0.dtype(), x0.device());
  return minimize(whole_batch(f), x0, options, model);
}

QuasiNewtonResult lbfgs_minimize(const SubsetObjective& f, const Tensor& x0, const LbfgsOptions& options) {
  check_start("lbfgs_minimize", x0, options);
  DPHYS_CHECK(options.memory >= 1, "lbfgs_minimize: memory must be at least 1, got {}", options.memory);
  LimitedInverseHessian model(x0.size(0), x0.size(1), options.memory, x0.dtype(), x0.device());
  return minimize(running_rows(f), x0, options, model);
}

}  // namespace dphys::optim
