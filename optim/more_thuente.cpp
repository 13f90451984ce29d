#include "optim/more_thuente.h"

#include <algorithm>
#include <cmath>

namespace dphys::optim {

namespace {

constexpr int kMaxTrials = 100;                                     // SciPy's maxiter for dcsrch
constexpr double kExtrapolateLower = 1.1, kExtrapolateUpper = 4.0;  // dcsrch's xtrapl, xtrapu

struct Interval {
  double& stx;
  double& fx;
  double& dx;
  double& sty;
  double& fy;
  double& dy;
};

// dcstep: a safeguarded step from the interval's ends (x best, y other) and the trial (stp, fp, dp), and
// the interval updated with the trial; returns the new step. The four cases are Moré & Thuente's §4.
double dcstep(Interval v, double stp, double fp, double dp, bool& bracketed, double stpmin, double stpmax) {
  const double sgnd = dp * (v.dx / std::abs(v.dx));
  double stpf;
  if (fp > v.fx) {
    // Higher value: bracketed. The cubic step if it is closer to stx than the quadratic, else their mean.
    const double theta = 3 * (v.fx - fp) / (stp - v.stx) + v.dx + dp;
    const double s = std::max({std::abs(theta), std::abs(v.dx), std::abs(dp)});
    double gamma = s * std::sqrt((theta / s) * (theta / s) - (v.dx / s) * (dp / s));
    if (stp < v.stx) gamma = -gamma;
    const double p = (gamma - v.dx) + theta, q = ((gamma - v.dx) + gamma) + dp;
    const double stpc = v.stx + p / q * (stp - v.stx);
    const double stpq = v.stx + v.dx / ((v.fx - fp) / (stp - v.stx) + v.dx) / 2 * (stp - v.stx);
    stpf = std::abs(stpc - v.stx) < std::abs(stpq - v.stx) ? stpc : stpc + (stpq - stpc) / 2;
    bracketed = true;
  } else if (sgnd < 0) {
    // Lower value, derivatives of opposite sign: bracketed. The cubic step if farther from stp than the
    // secant step, else the secant step.
    const double theta = 3 * (v.fx - fp) / (stp - v.stx) + v.dx + dp;
    const double s = std::max({std::abs(theta), std::abs(v.dx), std::abs(dp)});
    double gamma = s * std::sqrt((theta / s) * (theta / s) - (v.dx / s) * (dp / s));
    if (stp > v.stx) gamma = -gamma;
    const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + v.dx;
    const double stpc = stp + p / q * (v.stx - stp);
    const double stpq = stp + dp / (dp - v.dx) * (v.stx - stp);
    stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
    bracketed = true;
  } else if (std::abs(dp) < std::abs(v.dx)) {
    // Lower value, same sign, the derivative's magnitude decreases. The cubic step only where the cubic
    // tends to infinity in the step's direction or its minimum lies beyond stp.
    const double theta = 3 * (v.fx - fp) / (stp - v.stx) + v.dx + dp;
    const double s = std::max({std::abs(theta), std::abs(v.dx), std::abs(dp)});
    double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (v.dx / s) * (dp / s)));
    if (stp > v.stx) gamma = -gamma;
    const double p = (gamma - dp) + theta, q = (gamma + (v.dx - dp)) + gamma;
    const double r = p / q;
    double stpc;
    if (r < 0 && gamma != 0) {
      stpc = stp + r * (v.stx - stp);
    } else {
      stpc = stp > v.stx ? stpmax : stpmin;
    }
    const double stpq = stp + dp / (dp - v.dx) * (v.stx - stp);
    if (bracketed) {
      stpf = std::abs(stpc - stp) < std::abs(stpq - stp) ? stpc : stpq;
      const double limit = stp + 0.66 * (v.sty - stp);
      stpf = stp > v.stx ? std::min(limit, stpf) : std::max(limit, stpf);
    } else {
      stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
      stpf = std::max(stpmin, std::min(stpmax, stpf));
    }
  } else if (bracketed) {
    // Lower value, same sign, the derivative's magnitude does not decrease: the cubic through stp and sty.
    const double theta = 3 * (fp - v.fy) / (v.sty - stp) + v.dy + dp;
    const double s = std::max({std::abs(theta), std::abs(v.dy), std::abs(dp)});
    double gamma = s * std::sqrt((theta / s) * (theta / s) - (v.dy / s) * (dp / s));
    if (stp > v.sty) gamma = -gamma;
    const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + v.dy;
    stpf = stp + p / q * (v.sty - stp);
  } else {
    stpf = stp > v.stx ? stpmax : stpmin;
  }
  if (fp > v.fx) {
    v.sty = stp;
    v.fy = fp;
    v.dy = dp;
  } else {
    if (sgnd < 0) {
      v.sty = v.stx;
      v.fy = v.fx;
      v.dy = v.dx;
    }
    v.stx = stp;
    v.fx = fp;
    v.dx = dp;
  }
  return stpf;
}

}  // namespace

void MoreThuenteSearch::begin(double phi0, double dphi0, double first_step,
                              const LineSearchOptions& options) {
  options_ = options;
  count_ = 0;
  stp_ = first_step;
  // dcsrch's input errors.
  const bool valid = std::isfinite(phi0) && std::isfinite(dphi0) && dphi0 < 0 &&
                     first_step >= options.min_step && first_step <= options.max_step && options.c1 >= 0 &&
                     options.c2 >= 0 && options.xtol >= 0 && options.min_step >= 0 &&
                     options.max_step >= options.min_step;
  if (!valid) {
    phase_ = Phase::failed;
    return;
  }
  phase_ = Phase::searching;
  bracketed_ = false;
  first_stage_ = true;
  finit_ = phi0;
  ginit_ = dphi0;
  gtest_ = options.c1 * dphi0;
  width_ = options.max_step - options.min_step;
  width1_ = width_ / 0.5;
  stx_ = sty_ = 0;
  fx_ = fy_ = phi0;
  gx_ = gy_ = dphi0;
  stmin_ = 0;
  stmax_ = first_step + kExtrapolateUpper * first_step;
}

void MoreThuenteSearch::observe(double f, double g) {
  if (phase_ != Phase::searching) return;
  ++count_;
  if (!std::isfinite(f) || !std::isfinite(g) || count_ >= kMaxTrials) {
    phase_ = Phase::failed;
    return;
  }
  const double ftest = finit_ + stp_ * gtest_;
  if (first_stage_ && f <= ftest && g >= 0) first_stage_ = false;
  // Warnings end the search as failures, convergence (tested after them, as dcsrch does) as success.
  const bool warning = (bracketed_ && (stp_ <= stmin_ || stp_ >= stmax_)) ||
                       (bracketed_ && stmax_ - stmin_ <= options_.xtol * stmax_) ||
                       (stp_ == options_.max_step && f <= ftest && g <= gtest_) ||
                       (stp_ == options_.min_step && (f > ftest || g >= gtest_));
  if (f <= ftest && std::abs(g) <= options_.c2 * -ginit_) {
    phase_ = Phase::done;
    return;
  }
  if (warning) {
    phase_ = Phase::failed;
    return;
  }
  if (first_stage_ && f <= fx_ && f > ftest) {
    // The modified function ψ(α) = φ(α) − φ(0) − c1·α·φ'(0) predicts the step while the decrease is not
    // yet sufficient but a lower value has been found.
    double fxm = fx_ - stx_ * gtest_, fym = fy_ - sty_ * gtest_;
    double gxm = gx_ - gtest_, gym = gy_ - gtest_;
    const double next = dcstep({stx_, fxm, gxm, sty_, fym, gym}, stp_, f - stp_ * gtest_, g - gtest_,
                               bracketed_, stmin_, stmax_);
    fx_ = fxm + stx_ * gtest_;
    fy_ = fym + sty_ * gtest_;
    gx_ = gxm + gtest_;
    gy_ = gym + gtest_;
    stp_ = next;
  } else {
    stp_ = dcstep({stx_, fx_, gx_, sty_, fy_, gy_}, stp_, f, g, bracketed_, stmin_, stmax_);
  }
  if (bracketed_) {
    // Bisect when the interval has not shrunk enough over two steps.
    if (std::abs(sty_ - stx_) >= 0.66 * width1_) stp_ = stx_ + 0.5 * (sty_ - stx_);
    width1_ = width_;
    width_ = std::abs(sty_ - stx_);
    stmin_ = std::min(stx_, sty_);
    stmax_ = std::max(stx_, sty_);
  } else {
    stmin_ = stp_ + kExtrapolateLower * (stp_ - stx_);
    stmax_ = stp_ + kExtrapolateUpper * (stp_ - stx_);
  }
  stp_ = std::min(std::max(stp_, options_.min_step), options_.max_step);
  // No further progress possible: the best step so far is tried (dcsrch then warns on the next call).
  if (bracketed_ && (stp_ <= stmin_ || stp_ >= stmax_ || stmax_ - stmin_ <= options_.xtol * stmax_))
    stp_ = stx_;
}

void ScipyWolfeSearch::begin(double phi0, double dphi0, double first_step, const LineSearchOptions& options) {
  phi0_ = phi0;
  dphi0_ = dphi0;
  first_step_ = first_step;
  options_ = options;
  on_zoom_ = false;
  more_thuente_.begin(phi0, dphi0, first_step, options);
  fall_back_if_failed();
}

void ScipyWolfeSearch::observe(double phi, double dphi) {
  if (on_zoom_) {
    zoom_.observe(phi, dphi);
    return;
  }
  more_thuente_.observe(phi, dphi);
  fall_back_if_failed();
}

void ScipyWolfeSearch::fall_back_if_failed() {
  if (on_zoom_ || more_thuente_.searching() || more_thuente_.succeeded()) return;
  on_zoom_ = true;
  zoom_.begin(phi0_, dphi0_, first_step_, options_);
}

}  // namespace dphys::optim
