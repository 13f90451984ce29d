#pragma once
// The Moré–Thuente line search (Moré & Thuente, "Line search algorithms with guaranteed sufficient
// decrease", ACM TOMS 20, 1994), as MINPACK-2's dcsrch/dcstep implement it and SciPy's BFGS calls it first
// (line_search_wolfe1: c1 = 1e-4, c2 = 0.9, xtol = 1e-14, steps in [1e-100, 1e100], at most 100 trial
// points), and SciPy's rule of falling back to the zoom search (WolfeSearch) when it fails. Copying this
// pair is what makes batched BFGS take SciPy's iterates (jpo.md §3.1: 2-D Rosenbrock, nit 32, nfev 39).
#include "optim/line_search.h"

namespace dphys::optim {

// One problem's Moré–Thuente search as a state machine, with WolfeSearch's interface: begin, then observe
// φ and φ' at trial() until it no longer searches. It succeeds when φ(α) ≤ φ(0) + c1·α·φ'(0) and
// |φ'(α)| ≤ c2·|φ'(0)| (dcsrch's "CONVERGENCE"); each of dcsrch's errors and warnings (rounding errors
// prevent progress, the interval is below xtol, the step is at its bound), a non-finite φ or φ', and the
// 100th trial point without convergence are failures.
class MoreThuenteSearch {
 public:
  void begin(double phi0, double dphi0, double first_step, const LineSearchOptions& options);
  bool searching() const { return phase_ == Phase::searching; }
  bool succeeded() const { return phase_ == Phase::done; }
  double trial() const { return stp_; }
  void observe(double phi, double dphi);

 private:
  enum class Phase { idle, searching, done, failed };
  LineSearchOptions options_;
  Phase phase_ = Phase::idle;
  int count_ = 0;
  bool bracketed_ = false, first_stage_ = true;
  double finit_ = 0, ginit_ = 0, gtest_ = 0, width_ = 0, width1_ = 0;
  double stp_ = 0, stmin_ = 0, stmax_ = 0;
  // The interval's ends: x the best step so far, y the other end (dcsrch's stx, fx, gx and sty, fy, gy).
  double stx_ = 0, fx_ = 0, gx_ = 0, sty_ = 0, fy_ = 0, gy_ = 0;
};

// SciPy's _line_search_wolfe12: Moré–Thuente first; if it fails, the zoom search from the same start and
// first step. Evaluations of both count.
class ScipyWolfeSearch {
 public:
  void begin(double phi0, double dphi0, double first_step, const LineSearchOptions& options);
  bool searching() const { return on_zoom_ ? zoom_.searching() : more_thuente_.searching(); }
  bool succeeded() const { return on_zoom_ ? zoom_.succeeded() : more_thuente_.succeeded(); }
  double trial() const { return on_zoom_ ? zoom_.trial() : more_thuente_.trial(); }
  void observe(double phi, double dphi);

 private:
  void fall_back_if_failed();
  MoreThuenteSearch more_thuente_;
  WolfeSearch zoom_;
  bool on_zoom_ = false;
  double phi0_ = 0, dphi0_ = 0, first_step_ = 0;
  LineSearchOptions options_;
};

}  // namespace dphys::optim
