#include "optim/hessian_free.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

using Vectors = std::vector<Tensor>;

constexpr double kInf = std::numeric_limits<double>::infinity();

double dot(const Vectors& a, const Vectors& b) {
  double total = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) total += sum(a[i] * b[i]).item();
  return total;
}

// a + alpha·b
Vectors axpy(const Vectors& a, double alpha, const Vectors& b) {
  Vectors out;
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(a[i] + alpha * b[i]);
  return out;
}

Vectors scaled(const Vectors& a, double alpha) {
  Vectors out;
  for (const Tensor& t : a) out.push_back(alpha * t);
  return out;
}

Vectors zeros_like_all(const Vectors& xs) {
  Vectors out;
  for (const Tensor& x : xs) out.push_back(zeros_like(x));
  return out;
}

// ∂root/∂target (contracted with root_grad), zeros where the root does not reach a target. The graph is kept,
// so the curvature products can run through it once per CG iteration.
Vectors cotangents(const Tensor& root, const Tensor& root_grad, const Vectors& targets, bool create_graph) {
  if (!root.defined() || !root.requires_grad()) return zeros_like_all(targets);
  BackwardOptions options;
  options.create_graph = create_graph;
  options.retain_graph = true;
  Vectors out = run_backward({root}, {root_grad}, targets, options);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!out[i].defined()) out[i] = zeros_like(targets[i]);
  return out;
}

// Σ_i ⟨a_i, b_i⟩ over the a_i that carry a graph, recorded; undefined when none does.
Tensor recorded_inner(const Vectors& a, const Vectors& b) {
  GradModeGuard recording(true);
  Tensor total;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].requires_grad()) continue;
    const Tensor term = sum(a[i] * b[i]);
    total = total.defined() ? total + term : term;
  }
  return total;
}

Vectors detached(const Vectors& xs) {
  Vectors out;
  for (const Tensor& x : xs) out.push_back(x.detach());
  return out;
}

void check_one_element(const Tensor& value, const char* what) {
  DPHYS_CHECK(value.defined() && value.numel() == 1,
              "HessianFree::step: {} returned shape {}; expected one element", what,
              value.defined() ? shape_str(value.shape()) : "undefined");
}

struct CgRun {
  std::vector<std::pair<int, Vectors>> iterates;  // (iteration, x), iteration 0 is the start
  std::vector<double> q;  // q(x_i) = ½xᵢᵀAxᵢ − bᵀxᵢ for every iteration i
  int iterations = 0;
};

// Martens 2010 Algorithm 2 without preconditioning, as PyTorchHessianFree's cg: minimises q(x) = ½xᵀAx − bᵀx
// from x0 and keeps the iterates at i = ⌈1.3ʲ⌉ − 1 (Martens 2010 §4.6) and the last one.
CgRun truncated_cg(const std::function<Vectors(const Vectors&)>& A, const Vectors& b, const Vectors& x0,
                   int max_iterations, double tolerance) {
  std::set<int> grid;
  for (double power = 1.0; power - 1.0 <= max_iterations + 1.0; power *= 1.3)
    grid.insert(static_cast<int>(std::ceil(power)) - 1);

  CgRun run;
  Vectors x = x0;
  Vectors r = axpy(A(x), -1.0, b);
  run.q.push_back(0.5 * dot(axpy(r, -1.0, b), x));
  run.iterates.emplace_back(0, x);
  const double bound = tolerance * std::sqrt(dot(b, b));
  double rr = dot(r, r);
  if (rr == 0.0) return run;
  Vectors p = scaled(r, -1.0);
  for (int i = 1;; ++i) {
    const Vectors Ap = A(p);
    const double pAp = dot(p, Ap);
    if (!(pAp > 0.0)) {
      // Non-positive curvature (an indefinite Hessian with too little damping): stop with the current
      // iterate, or, in the first iteration, take the steepest-descent step p, which still lowers q by at
      // least ‖r‖² (Nocedal & Wright, Algorithm 7.1).
      if (i == 1) {
        x = axpy(x, 1.0, p);
        run.q.push_back(run.q.back() - rr + 0.5 * pAp);
        run.iterates.emplace_back(1, x);
        run.iterations = 1;
      }
      break;
    }
    const double alpha = rr / pAp;
    x = axpy(x, alpha, p);
    r = axpy(r, alpha, Ap);
    run.q.push_back(0.5 * dot(axpy(r, -1.0, b), x));
    run.iterations = i;
    if (grid.count(i)) run.iterates.emplace_back(i, x);

    const int k = std::max(10, i / 10);
    const bool stalled = k < i && (run.q[i] - run.q[i - k]) / (run.q[i] - run.q[0]) < 1e-4;
    const double rr_new = dot(r, r);
    if (stalled || i >= max_iterations || std::isnan(rr_new) || std::sqrt(rr_new) < bound) break;
    p = axpy(scaled(r, -1.0), rr_new / rr, p);
    rr = rr_new;
  }
  if (run.iterates.back().first != run.iterations) run.iterates.emplace_back(run.iterations, x);
  return run;
}

}  // namespace

HessianFree::HessianFree(std::vector<Tensor> parameters, const HessianFreeOptions& options)
    : parameters_(std::move(parameters)), options_(options), damping_(options.damping) {
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& p = parameters_[i];
    DPHYS_CHECK(p.defined(), "HessianFree: parameter {} is an undefined tensor", i);
    DPHYS_CHECK(
        p.requires_grad() && p.is_leaf(),
        "HessianFree: parameter {} (shape {}, {}) is not a leaf that requires grad; call requires_grad_() "
        "on it",
        i, shape_str(p.shape()), dtype_name(p.dtype()));
    DPHYS_CHECK(is_floating(p.dtype()) && !is_complex(p.dtype()),
                "HessianFree: parameter {} has dtype {}; expected f32 or f64", i, dtype_name(p.dtype()));
  }
  DPHYS_CHECK(std::isfinite(options.lr) && options.lr >= 0.0, "HessianFree: lr {} must be finite and >= 0",
              options.lr);
  set_damping(options.damping);
  DPHYS_CHECK(options.cg_max_iterations >= 1, "HessianFree: cg_max_iterations {} must be >= 1",
              options.cg_max_iterations);
  DPHYS_CHECK(std::isfinite(options.cg_tolerance) && options.cg_tolerance >= 0.0,
              "HessianFree: cg_tolerance {} must be finite and >= 0", options.cg_tolerance);
  DPHYS_CHECK(std::isfinite(options.cg_warm_start_decay) && options.cg_warm_start_decay >= 0.0,
              "HessianFree: cg_warm_start_decay {} must be finite and >= 0", options.cg_warm_start_decay);
}

void HessianFree::set_damping(double damping) {
  DPHYS_CHECK(std::isfinite(damping) && damping >= 0.0, "HessianFree: damping {} must be finite and >= 0",
              damping);
  damping_ = damping;
}

NamedTensors HessianFree::state() const {
  NamedTensors out{{"damping", scalar(damping_, DType::f64)}};
  for (std::size_t i = 0; i < warm_start_.size(); ++i)
    out.emplace_back("warm_start." + std::to_string(i), warm_start_[i].clone());
  return out;
}

void HessianFree::load_state(const NamedTensors& state) {
  double damping = -1.0;
  bool have_damping = false;
  Vectors warm_start(parameters_.size());
  std::size_t found = 0;
  for (const auto& [name, tensor] : state) {
    DPHYS_CHECK(tensor.defined(), "HessianFree::load_state: entry '{}' is an undefined tensor", name);
    if (name == "damping") {
      DPHYS_CHECK(!have_damping, "HessianFree::load_state: 'damping' appears twice");
      DPHYS_CHECK(tensor.shape().empty() && tensor.dtype() == DType::f64,
                  "HessianFree::load_state: 'damping' has shape {} and dtype {}, expected a 0-d f64 tensor",
                  shape_str(tensor.shape()), dtype_name(tensor.dtype()));
      damping = tensor.item();
      DPHYS_CHECK(std::isfinite(damping) && damping >= 0.0,
                  "HessianFree::load_state: damping {} must be finite and >= 0", damping);
      have_damping = true;
      continue;
    }
    const std::string prefix = "warm_start.";
    std::size_t index = 0;
    // At most 9 digits, so the number fits before it is compared with the parameter count.
    const bool numbered = name.rfind(prefix, 0) == 0 && name.size() > prefix.size() &&
                          name.size() - prefix.size() <= 9 &&
                          name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
    if (numbered) index = std::stoul(name.substr(prefix.size()));
    DPHYS_CHECK(
        numbered && index < parameters_.size(),
        "HessianFree::load_state: unexpected entry '{}'; expected 'damping' or 'warm_start.<i>' with i "
        "below {}",
        name, parameters_.size());
    DPHYS_CHECK(!warm_start[index].defined(), "HessianFree::load_state: entry '{}' appears twice", name);
    const Tensor& p = parameters_[index];
    DPHYS_CHECK(tensor.shape() == p.shape() && tensor.dtype() == p.dtype() && tensor.device() == p.device(),
                "HessianFree::load_state: entry '{}' is {} {} on {}, parameter {} is {} {} on {}", name,
                shape_str(tensor.shape()), dtype_name(tensor.dtype()), tensor.device().str(), index,
                shape_str(p.shape()), dtype_name(p.dtype()), p.device().str());
    warm_start[index] = tensor.clone();
    ++found;
  }
  DPHYS_CHECK(have_damping, "HessianFree::load_state: the state has no 'damping' entry");
  DPHYS_CHECK(found == 0 || found == parameters_.size(),
              "HessianFree::load_state: the state has a warm start for {} of the {} parameters", found,
              parameters_.size());
  damping_ = damping;
  warm_start_ = found == 0 ? Vectors() : std::move(warm_start);
}

HessianFreeReport HessianFree::step(const Closure& loss) {
  Tensor value;
  {
    GradModeGuard recording(true);
    value = loss();
  }
  check_one_element(value, "the loss");
  const Vectors grads = cotangents(value, Tensor(), parameters_, true);
  const auto curvature = [&](const Vectors& v) {
    return cotangents(recorded_inner(grads, v), Tensor(), parameters_, false);
  };
  const auto evaluate = [&] {
    NoGradGuard no_grad;
    return loss().item();
  };
  return run(detached(grads), curvature, evaluate, value.item());
}

HessianFreeReport HessianFree::step(const Closure& outputs, const OutputLoss& output_loss) {
  Tensor z;
  {
    GradModeGuard recording(true);
    z = outputs();
  }
  DPHYS_CHECK(z.defined(), "HessianFree::step: the outputs closure returned an undefined tensor");
  Tensor at = z.detach();
  at.requires_grad_();
  Tensor value;
  {
    GradModeGuard recording(true);
    value = output_loss(at);
  }
  check_one_element(value, "the output loss");
  // ∇ℓ(z), recorded so that its own derivative gives ∇²ℓ(z)·w.
  const Tensor loss_grad = cotangents(value, Tensor(), {at}, true)[0];
  const Vectors grad = detached(cotangents(z, loss_grad.detach(), parameters_, false));
  // Jᵀu for a dummy cotangent u: linear in u, so its derivative along v with respect to u is J·v (the
  // double-VJP trick of jvp).
  Tensor u = zeros_like(z);
  u.requires_grad_();
  const Vectors jtu = cotangents(z, u, parameters_, true);
  const auto curvature = [&](const Vectors& v) {
    const Tensor jv = cotangents(recorded_inner(jtu, v), Tensor(), {u}, false)[0];
    const Tensor hjv = cotangents(recorded_inner({loss_grad}, {jv}), Tensor(), {at}, false)[0];
    return cotangents(z, hjv, parameters_, false);
  };
  const auto evaluate = [&] {
    NoGradGuard no_grad;
    return output_loss(outputs()).item();
  };
  return run(grad, curvature, evaluate, value.item());
}

HessianFreeReport HessianFree::run(const Vectors& grad,
                                   const std::function<Vectors(const Vectors&)>& curvature,
                                   const std::function<double()>& evaluate, double loss) {
  NoGradGuard no_grad;
  HessianFreeReport report;
  report.loss = report.new_loss = loss;
  report.damping = damping_;
  report.rho = std::numeric_limits<double>::quiet_NaN();
  if (dot(grad, grad) == 0.0) return report;

  Vectors start;
  for (const Tensor& p : parameters_) start.push_back(p.detach().clone());
  const auto loss_at = [&](const Vectors& step, double scale) {
    for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].copy_(start[i] + scale * step[i]);
    const double f = evaluate();
    return std::isnan(f) ? kInf : f;
  };

  const double lambda = damping_;
  const bool cold = warm_start_.empty();
  const CgRun cg = truncated_cg([&](const Vectors& v) { return axpy(curvature(v), lambda, v); },
                                scaled(grad, -1.0), cold ? zeros_like_all(grad) : warm_start_,
                                options_.cg_max_iterations, options_.cg_tolerance);
  report.cg_iterations = cg.iterations;
  const Vectors& last = cg.iterates.back().second;
  warm_start_ = scaled(last, options_.cg_warm_start_decay);

  double loss_last = std::numeric_limits<double>::quiet_NaN();
  if (options_.adapt_damping) {
    // Measured from θ, where q = 0 (Martens 2010 §4.1); PyTorchHessianFree measures from the warm start.
    loss_last = loss_at(last, 1.0);
    report.rho = (loss_last - loss) / cg.q.back();
    if (!(report.rho >= 0.25)) {  // NaN too: a step whose model or loss is not finite was a bad one
      damping_ *= 1.5;
    } else if (report.rho > 0.75) {
      damping_ *= 2.0 / 3.0;
    }
  }

  std::size_t chosen = cg.iterates.size() - 1;
  double loss_chosen = loss_last;
  if (options_.cg_backtracking) {
    loss_chosen = kInf;
    for (std::size_t k = cg.iterates.size(); k-- > 0;) {
      const double f = k + 1 == cg.iterates.size() && !std::isnan(loss_last)
                           ? loss_last
                           : loss_at(cg.iterates[k].second, 1.0);
      if (f < loss_chosen) {
        loss_chosen = f;
        chosen = k;
      } else if (std::isfinite(loss_chosen)) {
        break;
      }
    }
  }
  report.cg_iterate = cg.iterates[chosen].first;
  const Vectors& step = cg.iterates[chosen].second;

  double alpha = options_.lr;
  if (options_.line_search) {
    const double slope = 0.01 * dot(grad, step);
    double f = alpha == 1.0 && !std::isnan(loss_chosen) ? loss_chosen : loss_at(step, alpha);
    bool accepted = false;
    for (int trial = 0; trial < 20; ++trial) {
      if (f <= loss + alpha * slope) {
        accepted = true;
        break;
      }
      if (trial + 1 == 20) break;
      alpha *= 0.8;
      f = loss_at(step, alpha);
    }
    if (!accepted) {
      alpha = 0.0;
      f = loss;
    }
    report.new_loss = f;
  }
  if (alpha == 0.0) {
    // Rejected: θ stays exactly where it was (start + 0·step is NaN for a step that overflowed), and the next
    // CG starts cold, since a warm start from a rejected step grew by orders of magnitude per step until it
    // overflowed (a U-net with batch norm, whose loss is blind to the weights' scale).
    for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].copy_(start[i]);
    warm_start_.clear();
  } else {
    for (std::size_t i = 0; i < parameters_.size(); ++i) parameters_[i].copy_(start[i] + alpha * step[i]);
  }
  if (!options_.line_search) report.new_loss = evaluate();
  report.step_size = alpha;
  return report;
}

}  // namespace dphys::optim
