#include "optim/hig.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>

#include "autodiff/backward.h"
#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/device_memory.h"
#include "engine/dispatch.h"
#include "engine/linalg.h"
#include "engine/value_check.h"

namespace dphys::optim {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The parameters in named_parameters order and where each starts in a flattened θ.
struct Layout {
  std::vector<Tensor> parameters;
  std::vector<std::int64_t> offsets;
  std::int64_t total = 0;
};

Layout layout_of(const nn::Module& network) {
  Layout layout;
  layout.parameters = network.parameters();
  for (const Tensor& p : layout.parameters) {
    layout.offsets.push_back(layout.total);
    layout.total += p.numel();
  }
  DPHYS_CHECK(layout.total > 0, "stacked_jacobian: the network has no parameters");
  return layout;
}

// BatchNorm in training mode normalises with batch statistics, so one example's output depends on the
// others; its running statistics are the module's buffers.
bool couples_examples(const nn::Module& network) {
  return network.is_training() && !network.named_buffers().empty();
}

void check_output(const Tensor& y, std::int64_t batch, const char* method) {
  DPHYS_CHECK(
      y.dim() >= 1 && y.size(0) == batch && (y.dtype() == DType::f32 || y.dtype() == DType::f64),
      "stacked_jacobian ({}): the physics returned {} of shape {}; expected real outputs with a leading "
      "batch axis of {}",
      method, dtype_name(y.dtype()), shape_str(y.shape()), batch);
}

Tensor one_hot(const Shape& shape, DType dtype, std::int64_t index, Device device) {
  Tensor t = zeros(shape, dtype);
  dispatch_real(dtype, "stacked_jacobian", [&](auto v) { t.data<decltype(v)>()[index] = 1; });
  return t.to(device);
}

// A Jacobian on a device starts zeroed and receives each gradient block by a device-to-device copy.
void write_row_on_device(const Tensor& jacobian, std::int64_t row, const std::vector<Tensor>& grads,
                         const Layout& layout) {
  double* out = static_cast<double*>(jacobian.storage()->data()) + row * layout.total;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    const Tensor g = cast(grads[i], DType::f64);
    device_memory::copy(out + layout.offsets[i], jacobian.device(), g.storage()->data(), g.device(),
                        static_cast<std::size_t>(g.numel()) * sizeof(double));
  }
}

// J on the input's device: uninitialised on the CPU, where every row is written whole, zeroed on a device.
Tensor jacobian_storage(std::int64_t rows, std::int64_t columns, Device device) {
  return device.is_cpu() ? Tensor::empty({rows, columns}, DType::f64)
                         : zeros({rows, columns}, DType::f64, device);
}

// Writes the gradients of one output element (one per parameter; undefined = zero) as row `row` of J.
void write_row(const Tensor& jacobian, std::int64_t row, const std::vector<Tensor>& grads,
               const Layout& layout) {
  if (!jacobian.device().is_cpu()) return write_row_on_device(jacobian, row, grads, layout);
  double* out = jacobian.data<double>() + row * layout.total;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    double* block = out + layout.offsets[i];
    const std::int64_t n = layout.parameters[i].numel();
    if (!grads[i].defined()) {
      std::fill(block, block + n, 0.0);
      continue;
    }
    dispatch_real(grads[i].dtype(), "stacked_jacobian", [&](auto v) {
      const auto* g = grads[i].data<decltype(v)>();
      std::copy(g, g + n, block);
    });
  }
}

// The rows of every output element of y (whose graph leads to the parameters), starting at row `first`.
void write_rows(const Tensor& jacobian, std::int64_t first, const Tensor& y, const Layout& layout) {
  const std::int64_t n = y.numel();
  if (!y.requires_grad()) {
    if (!jacobian.device().is_cpu()) return;  // zeroed when made
    std::fill(jacobian.data<double>() + first * layout.total,
              jacobian.data<double>() + (first + n) * layout.total, 0.0);
    return;
  }
  BackwardOptions options;
  for (std::int64_t k = 0; k < n; ++k) {
    options.retain_graph = k + 1 < n;
    write_row(jacobian, first + k,
              run_backward({y}, {one_hot(y.shape(), y.dtype(), k, y.device())}, layout.parameters, options),
              layout);
  }
}

// Runs f(0), ..., f(n − 1) on the OpenMP threads and rethrows the first exception once all have stopped.
template <class F>
void for_each_example(std::int64_t n, F&& f) {
  std::exception_ptr error;
  std::mutex mutex;
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t i = 0; i < n; ++i) {
    if (failed.load()) continue;
    try {
      f(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  }
  if (error) std::rethrow_exception(error);
}

StackedJacobian per_example_jacobian(nn::Module& network, const HigPhysics& physics, const Tensor& input,
                                     const Tensor& state, const Layout& layout) {
  DPHYS_CHECK(
      !couples_examples(network),
      "stacked_jacobian (per_example): the network is in training mode and has buffers (BatchNorm), so its "
      "examples are coupled; use JacobianMethod::whole_batch or call eval()");
  const std::int64_t batch = input.size(0);
  const auto run = [&](std::int64_t b) {
    const Tensor s = state.defined() ? slice(state, 0, b, b + 1) : Tensor();
    return physics(network(slice(input, 0, b, b + 1)), s);
  };
  Shape shape;
  DType dtype;
  {
    NoGradGuard no_grad;
    const Tensor probe = run(0);
    check_output(probe, 1, "per_example");
    shape = probe.shape();
    dtype = probe.dtype();
  }
  const std::int64_t outputs = shape_numel(shape);
  StackedJacobian result{jacobian_storage(batch * outputs, layout.total, input.device()), Tensor()};
  std::vector<Tensor> ys(batch);
  for_each_example(batch, [&](std::int64_t b) {
    GradModeGuard record(true);
    const Tensor y = run(b);
    DPHYS_CHECK(y.shape() == shape && y.dtype() == dtype,
                "stacked_jacobian (per_example): example {} gave outputs {} ({}), example 0 gave {} ({})", b,
                shape_str(y.shape()), dtype_name(y.dtype()), shape_str(shape), dtype_name(dtype));
    write_rows(result.jacobian, b * outputs, y, layout);
    ys[b] = y.detach();
  });
  result.output = concat(ys, 0);
  return result;
}

StackedJacobian whole_batch_jacobian(nn::Module& network, const HigPhysics& physics, const Tensor& input,
                                     const Tensor& state, const Layout& layout) {
  GradModeGuard record(true);
  const Tensor y = physics(network(input), state);
  check_output(y, input.size(0), "whole_batch");
  StackedJacobian result{jacobian_storage(y.numel(), layout.total, input.device()), y.detach()};
  write_rows(result.jacobian, 0, y, layout);
  return result;
}

}  // namespace

StackedJacobian stacked_jacobian(nn::Module& network, const HigPhysics& physics, const Tensor& input,
                                 const Tensor& state, JacobianMethod method) {
  DPHYS_CHECK(input.dim() >= 1 && input.size(0) >= 1, "stacked_jacobian: input of shape {} has no batch axis",
              shape_str(input.shape()));
  DPHYS_CHECK(!state.defined() || (state.dim() >= 1 && state.size(0) == input.size(0)),
              "stacked_jacobian: state of shape {} does not match the batch of the input {}",
              shape_str(state.shape()), shape_str(input.shape()));
  const Layout layout = layout_of(network);
  if (method == JacobianMethod::automatic)
    method = couples_examples(network) ? JacobianMethod::whole_batch : JacobianMethod::per_example;
  return method == JacobianMethod::per_example ? per_example_jacobian(network, physics, input, state, layout)
                                               : whole_batch_jacobian(network, physics, input, state, layout);
}

JacobianPower apply_jacobian_power(const Tensor& jacobian, const Tensor& v,
                                   const JacobianPowerOptions& options) {
  DPHYS_CHECK(jacobian.dim() == 2 && (jacobian.dtype() == DType::f32 || jacobian.dtype() == DType::f64),
              "apply_jacobian_power: expected a real Jacobian [rows, P], got {} of shape {}",
              dtype_name(jacobian.dtype()), shape_str(jacobian.shape()));
  const std::int64_t rows = jacobian.size(0), cols = jacobian.size(1);
  DPHYS_CHECK(
      v.dim() == 1 && v.size(0) == rows && (v.dtype() == DType::f32 || v.dtype() == DType::f64),
      "apply_jacobian_power: expected a real vector [{}] for a Jacobian of shape {}, got {} of shape {}",
      rows, shape_str(jacobian.shape()), dtype_name(v.dtype()), shape_str(v.shape()));
  DPHYS_CHECK(options.truncation >= 0 && std::isfinite(options.truncation) && std::isfinite(options.kappa) &&
                  std::isfinite(options.beta),
              "apply_jacobian_power: truncation {} must be finite and ≥ 0, kappa {} and beta {} finite",
              options.truncation, options.kappa, options.beta);
  NoGradGuard no_grad;
  const Tensor j = cast(jacobian, DType::f64), w = cast(v, DType::f64);
  // J is checked by svd and gram; a NaN in v would pass through as NaN coefficients.
  kernel::check_finite(w, fmt::format("apply_jacobian_power: the vector of shape {} contains NaN or Inf",
                                      shape_str(v.shape())));
  const double floor = static_cast<double>(rows) * std::numeric_limits<double>::epsilon();
  // The Gram route computes λ = s² with an absolute error of about ε·λ_max, so the smallest kept mode
  // (λ ≥ τ²·λ_max) has a relative error up to about ε/τ²: τ ≥ 30·√ε keeps that below 1/900 for any row count
  // (with τ = √(rows·ε) alone, 4 rows kept modes 1% off).
  const double gram_min_truncation =
      std::max(std::sqrt(floor), 30 * std::sqrt(std::numeric_limits<double>::epsilon()));
  HigSolver solver = options.solver;
  if (solver == HigSolver::automatic)
    solver = 4 * rows <= cols && !options.absolute_truncation && options.truncation >= gram_min_truncation
                 ? HigSolver::gram
                 : HigSolver::svd;
  const auto keep = [&](double s, double s1) {
    return s > 0 && s > (options.absolute_truncation ? options.truncation : options.truncation * s1);
  };

  JacobianPower out;
  out.solver = solver;
  std::vector<double> coefficients;
  Tensor basis;  // the columns the coefficients combine: V (svd) or U (gram)
  if (solver == HigSolver::svd) {
    const kernel::Svd f = kernel::svd(j);
    out.singular_values = f.s;
    const std::vector<double> s = f.s.to_vector<double>();
    const std::vector<double> projections = matmul(unsqueeze(w, 0), f.u).to_vector<double>();
    for (std::size_t k = 0; k < s.size(); ++k) {
      const bool kept = keep(s[k], s[0]);
      out.kept += kept;
      coefficients.push_back(kept ? std::pow(s[k], options.kappa) * projections[k] : 0.0);
    }
    basis = f.v;
  } else {
    const kernel::Eigh e = kernel::eigh(kernel::gram(j));
    const std::vector<double> lambda = e.eigenvalues.to_vector<double>();
    const double lambda_max = std::max(lambda.back(), 0.0), s1 = std::sqrt(lambda_max);
    const std::vector<double> projections = matmul(unsqueeze(w, 0), e.eigenvectors).to_vector<double>();
    std::vector<double> singular;
    for (std::size_t k = 0; k < lambda.size(); ++k) {
      const double s = std::sqrt(std::max(lambda[k], 0.0));
      const bool kept = lambda[k] > floor * lambda_max && keep(s, s1);
      out.kept += kept;
      coefficients.push_back(kept ? std::pow(s, options.kappa - 1) * projections[k] : 0.0);
      singular.push_back(s);
    }
    std::reverse(singular.begin(), singular.end());
    singular.resize(std::min(rows, cols));
    out.singular_values =
        from_vector(singular, {static_cast<std::int64_t>(singular.size())}, DType::f64, j.device());
    basis = e.eigenvectors;
  }
  const double s1 = out.singular_values.to_vector<double>().front();
  const double prefactor = options.beta == 0 || s1 == 0 ? 1.0 : std::pow(s1, options.beta);
  const Tensor c =
      from_vector(coefficients, {static_cast<std::int64_t>(coefficients.size()), 1}, DType::f64, j.device());
  // svd: d = V c. gram: d = Jᵀ (U c), computed as (U c)ᵀ J without transposing J.
  const Tensor d = solver == HigSolver::svd ? matmul(basis, c) : matmul(transpose(matmul(basis, c)), j);
  out.result = reshape(d, {cols}) * prefactor;
  return out;
}

HigTrainer::HigTrainer(nn::Module& network, HigPhysics physics, HigLoss loss, HigOptions options)
    : network_(network), physics_(std::move(physics)), loss_(std::move(loss)), options_(options) {
  DPHYS_CHECK(std::isfinite(options.lr), "HigTrainer: the learning rate {} must be finite", options.lr);
}

HigTrainer::HigTrainer(nn::Module& network, const PhysicsProblem& problem, HigOptions options)
    : HigTrainer(
          network, [&problem](const Tensor& u, const Tensor&) { return problem.forward(u); },
          [&problem](const Tensor& y, const Tensor& target) { return problem.loss(y, target); }, options) {}

HigReport HigTrainer::step(const Tensor& input, const Tensor& target, const Tensor& state) {
  HigReport report;
  const Clock::time_point start = Clock::now();
  const StackedJacobian stacked = stacked_jacobian(network_, physics_, input, state, options_.jacobian);
  report.jacobian_ms = ms_since(start);
  report.rows = stacked.jacobian.size(0);

  const std::int64_t batch = input.size(0);
  const auto [loss, grads] = value_and_grad(
      [&](const std::vector<Tensor>& y) {
        const Tensor per_example = loss_(y[0], target);
        DPHYS_CHECK(per_example.dim() == 1 && per_example.size(0) == batch,
                    "HigTrainer: the loss returned shape {}; expected one value per example [{}]",
                    shape_str(per_example.shape()), batch);
        return reduce_batch(per_example, options_.reduction);
      },
      {stacked.output});
  report.loss = loss.item();
  DPHYS_CHECK(std::isfinite(report.loss),
              "HigTrainer: the loss is {} before the update; the weights are left as they are", report.loss);

  const Clock::time_point solve_start = Clock::now();
  const JacobianPower power = apply_jacobian_power(stacked.jacobian, neg(flatten(grads[0])), options_.power);
  report.solve_ms = ms_since(solve_start);
  report.solver = power.solver;
  report.kept = power.kept;
  const std::vector<double> s = power.singular_values.to_vector<double>();
  report.largest_singular_value = s.front();
  report.smallest_kept_singular_value = power.kept > 0 ? s[power.kept - 1] : 0.0;

  NoGradGuard no_grad;
  report.update_norm = std::abs(options_.lr) * norm(power.result).item();
  std::int64_t offset = 0;
  for (Tensor& p : network_.parameters()) {
    const Tensor delta = reshape(slice(power.result, 0, offset, offset + p.numel()), p.shape());
    p.add_(cast(delta, p.dtype()), options_.lr);
    offset += p.numel();
  }
  return report;
}

}  // namespace dphys::optim
