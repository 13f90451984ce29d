#include "optim/line_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"
#include "autodiff/transforms.h"

namespace dphys::optim {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> host(const Tensor& t) { return cast(t, DType::f64).to_vector<double>(); }

// Minimiser of the cubic through (a, fa), (b, fb), (c, fc) with slope fpa at a; NaN when there is none
// (SciPy's _cubicmin, which gives up on any overflow or division by zero).
double cubic_min(double a, double fa, double fpa, double b, double fb, double c, double fc) {
  const double db = b - a, dc = c - a;
  const double denom = (db * dc) * (db * dc) * (db - dc);
  const double rb = fb - fa - fpa * db, rc = fc - fa - fpa * dc;
  const double A = (dc * dc * rb - db * db * rc) / denom;
  const double B = (-dc * dc * dc * rb + db * db * db * rc) / denom;
  const double radical = B * B - 3 * A * fpa;
  if (!std::isfinite(A) || !std::isfinite(B) || !(radical >= 0) || A == 0) return kNaN;
  const double xmin = a + (-B + std::sqrt(radical)) / (3 * A);
  return std::isfinite(xmin) ? xmin : kNaN;
}

// Minimiser of the quadratic through (a, fa), (b, fb) with slope fpa at a; NaN when there is none.
double quadratic_min(double a, double fa, double fpa, double b, double fb) {
  const double db = b - a;
  const double B = (fb - fa - fpa * db) / (db * db);
  if (!std::isfinite(B) || B == 0) return kNaN;
  const double xmin = a - fpa / (2 * B);
  return std::isfinite(xmin) ? xmin : kNaN;
}

}  // namespace

void WolfeSearch::begin(double phi0, double dphi0, double first_step, const LineSearchOptions& options) {
  options_ = options;
  const bool valid = std::isfinite(phi0) && std::isfinite(dphi0) && dphi0 < 0 && first_step > 0;
  phase_ = valid ? Phase::bracket : Phase::failed;
  phi0_ = phi_lo_ = phi0;
  dphi0_ = dphi_lo_ = dphi0;
  a_lo_ = 0;
  count_ = 0;
  trial_ = std::min(first_step, options.max_step);
}

void WolfeSearch::observe(double phi, double dphi) {
  DPHYS_CHECK(searching(), "WolfeSearch::observe: the search is not running");
  if (!std::isfinite(phi) || !std::isfinite(dphi)) phi = kInf;
  if (phase_ == Phase::bracket) {
    observe_bracket(phi, dphi);
  } else {
    observe_zoom(phi, dphi);
  }
}

// Algorithm 3.5: the step doubles until it overshoots (sufficient decrease fails, φ rises, or φ' ≥ 0).
void WolfeSearch::observe_bracket(double phi, double dphi) {
  const LineSearchOptions& o = options_;
  const double a = trial_;
  ++count_;
  if (phi > phi0_ + o.c1 * a * dphi0_ || (count_ > 1 && phi >= phi_lo_)) {
    a_hi_ = a;
    phi_hi_ = phi;
    begin_zoom();
  } else if (std::abs(dphi) <= -o.c2 * dphi0_) {
    phase_ = Phase::done;
  } else if (dphi >= 0) {
    a_hi_ = a_lo_;
    phi_hi_ = phi_lo_;
    a_lo_ = a;
    phi_lo_ = phi;
    dphi_lo_ = dphi;
    begin_zoom();
  } else if (count_ >= o.max_bracket_evaluations || a >= o.max_step) {
    phase_ = Phase::failed;
  } else {
    a_lo_ = a;
    phi_lo_ = phi;
    dphi_lo_ = dphi;
    trial_ = std::min(2 * a, o.max_step);
  }
}

void WolfeSearch::begin_zoom() {
  phase_ = Phase::zoom;
  count_ = 0;
  a_rec_ = 0;
  phi_rec_ = phi0_;
  next_zoom_trial();
}

// Algorithm 3.6 with SciPy's choice of trial: the cubic through lo, hi and rec unless it lands within 20 % of
// the interval's width from an end, then the quadratic through lo and hi unless within 10 %, then bisection.
// (SciPy measures the margins with the signed width a_hi − a_lo, which admits points outside the interval
// when a_hi < a_lo; the absolute width is used here.)
void WolfeSearch::next_zoom_trial() {
  const double width = std::abs(a_hi_ - a_lo_);
  const double left = std::min(a_lo_, a_hi_), right = std::max(a_lo_, a_hi_);
  const auto inside = [&](double a, double margin) { return a >= left + margin && a <= right - margin; };
  double a = count_ > 0 ? cubic_min(a_lo_, phi_lo_, dphi_lo_, a_hi_, phi_hi_, a_rec_, phi_rec_) : kNaN;
  if (!inside(a, 0.2 * width)) {
    a = quadratic_min(a_lo_, phi_lo_, dphi_lo_, a_hi_, phi_hi_);
    if (!inside(a, 0.1 * width)) a = a_lo_ + 0.5 * (a_hi_ - a_lo_);
  }
  trial_ = a;
}

void WolfeSearch::observe_zoom(double phi, double dphi) {
  const LineSearchOptions& o = options_;
  const double a = trial_;
  ++count_;
  if (phi > phi0_ + o.c1 * a * dphi0_ || phi >= phi_lo_) {
    a_rec_ = a_hi_;
    phi_rec_ = phi_hi_;
    a_hi_ = a;
    phi_hi_ = phi;
  } else {
    if (std::abs(dphi) <= -o.c2 * dphi0_) {
      phase_ = Phase::done;
      return;
    }
    if (dphi * (a_hi_ - a_lo_) >= 0) {
      a_rec_ = a_hi_;
      phi_rec_ = phi_hi_;
      a_hi_ = a_lo_;
      phi_hi_ = phi_lo_;
    } else {
      a_rec_ = a_lo_;
      phi_rec_ = phi_lo_;
    }
    a_lo_ = a;
    phi_lo_ = phi;
    dphi_lo_ = dphi;
  }
  if (count_ >= o.max_zoom_evaluations) {
    phase_ = Phase::failed;
  } else {
    next_zoom_trial();
  }
}

std::pair<Tensor, Tensor> batched_value_and_grad(const BatchedObjective& f, const Tensor& x) {
  Tensor losses;
  const std::vector<Tensor> grads =
      value_and_grad(
          [&](const std::vector<Tensor>& xs) {
            losses = f(xs[0]);
            DPHYS_CHECK(
                losses.dim() == 1 && losses.size(0) == xs[0].size(0),
                "batched_value_and_grad: the objective returned shape {} for x of shape {}; expected [{}]",
                shape_str(losses.shape()), shape_str(xs[0].shape()), xs[0].size(0));
            return sum(losses);
          },
          {x})
          .second;
  return {losses.detach(), grads[0]};
}

LineSearchResult line_search_strong_wolfe(const BatchedObjective& f, const Tensor& x, const Tensor& direction,
                                          const Tensor& loss, const Tensor& grad,
                                          const std::vector<double>& initial_step,
                                          const std::vector<bool>& active, const LineSearchOptions& options) {
  DPHYS_CHECK(x.dim() == 2 && direction.shape() == x.shape() && grad.shape() == x.shape() &&
                  loss.shape() == Shape{x.size(0)},
              "line_search_strong_wolfe: expected x, direction, grad of shape [B, d] and loss [B], got x {}, "
              "direction {}, grad {}, loss {}",
              shape_str(x.shape()), shape_str(direction.shape()), shape_str(grad.shape()),
              shape_str(loss.shape()));
  const std::int64_t batch = x.size(0);
  DPHYS_CHECK(initial_step.size() == static_cast<std::size_t>(batch) &&
                  active.size() == static_cast<std::size_t>(batch),
              "line_search_strong_wolfe: {} initial steps and {} active flags for a batch of {}",
              initial_step.size(), active.size(), batch);
  DPHYS_CHECK(0 < options.c1 && options.c1 < options.c2 && options.c2 < 1,
              "line_search_strong_wolfe: need 0 < c1 < c2 < 1, got c1={} c2={}", options.c1, options.c2);
  NoGradGuard no_grad;
  const std::vector<double> phi0 = host(loss), dphi0 = host(sum(grad * direction, {1}));
  std::vector<WolfeSearch> searches(batch);
  for (std::int64_t b = 0; b < batch; ++b)
    if (active[b]) searches[b].begin(phi0[b], dphi0[b], initial_step[b], options);

  LineSearchResult result{x,
                          loss,
                          grad,
                          std::vector<double>(batch, 0.0),
                          std::vector<bool>(batch, false),
                          std::vector<int>(batch, 0),
                          0};
  for (;;) {
    std::vector<double> alpha(batch, 0.0), searching(batch, 0.0);
    bool any_searching = false;
    for (std::int64_t b = 0; b < batch; ++b)
      if (searches[b].searching()) {
        alpha[b] = searches[b].trial();
        searching[b] = 1.0;
        any_searching = true;
      }
    if (!any_searching) break;
    // Rows not searching get x itself, even where their direction is not finite.
    const Tensor trial_x = where(from_vector(searching, {batch, 1}, x.dtype(), x.device()),
                                 x + from_vector(alpha, {batch, 1}, x.dtype(), x.device()) * direction, x);
    const auto [phi, g] = batched_value_and_grad(f, trial_x);
    ++result.rounds;
    const std::vector<double> phi_host = host(phi), dphi_host = host(sum(g * direction, {1}));
    std::vector<double> accepted(batch, 0.0);
    bool any_accepted = false;
    for (std::int64_t b = 0; b < batch; ++b) {
      WolfeSearch& s = searches[b];
      if (!s.searching()) continue;
      ++result.evaluations[b];
      s.observe(phi_host[b], dphi_host[b]);
      if (s.succeeded()) {
        accepted[b] = 1.0;
        any_accepted = true;
        result.step[b] = alpha[b];
        result.success[b] = true;
      }
    }
    if (!any_accepted) continue;
    const Tensor mask = from_vector(accepted, {batch}, x.dtype(), x.device());
    const Tensor row_mask = reshape(mask, {batch, 1});
    result.x = where(row_mask, trial_x, result.x);
    result.loss = where(mask, phi, result.loss);
    result.grad = where(row_mask, g, result.grad);
  }
  return result;
}

}  // namespace dphys::optim
