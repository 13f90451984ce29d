#pragma once
// What an experiment app leaves behind: a run folder with metrics.csv (one row per logged iteration and
// method), summary.json (flags, final numbers, and each acceptance check with measured value, expected range
// and pass/fail), plus matrices for the figures. Also the progress line printed during long runs.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace dphys::app {

struct Check {
  std::string id;  // e.g. "3.5.1" (the spec's numbering)
  std::string description;
  double measured = 0.0;
  std::string expected;  // e.g. "[1.15, 1.7]" or "< 1"
  bool passed = false;
  std::string note;       // e.g. "quick mode: indicative only"
  bool evaluated = true;  // false when the run was too short for it: written with "passed": null
};

class RunOutput {
 public:
  // Creates `folder` (and parents); raises if that fails.
  explicit RunOutput(std::string folder);
  ~RunOutput();
  RunOutput(const RunOutput&) = delete;
  RunOutput& operator=(const RunOutput&) = delete;
  const std::string& folder() const { return folder_; }

  // metrics.csv: header method,iteration,wall_time_s,loss,error
  void log(const std::string& method, std::int64_t iteration, double wall_time_s, double loss, double error);
  // A 2-D field (last two axes of one example) as CSV, for the figure script.
  void save_field(const std::string& name, const Tensor& field);
  void add_value(const std::string& name, double value);
  void add_setting(const std::string& name, const std::string& value);
  void add_check(Check check);
  // Writes summary.json; returns true when every check passed.
  bool write_summary() const;

 private:
  std::string folder_;
  std::FILE* metrics_ = nullptr;
  std::vector<std::pair<std::string, double>> values_;
  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<Check> checks_;
};

// A one-line progress report on stderr (iteration, loss, iterations per second, ETA), redrawn in place.
class Progress {
 public:
  // Iterations [first, total) are to run (first > 0 when a run resumes): the rate and ETA count only those.
  Progress(std::string label, std::int64_t total, std::int64_t first = 0);
  void update(std::int64_t iteration, double loss);
  void finish();

 private:
  std::string label_;
  std::int64_t total_, first_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace dphys::app
