#include "run_output.h"

#include <cmath>
#include <filesystem>

#include "autodiff/ops.h"
#include "engine/error.h"

namespace dphys::app {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : "null"; }

}  // namespace

RunOutput::RunOutput(std::string folder) : folder_(std::move(folder)) {
  std::error_code error;
  std::filesystem::create_directories(folder_, error);
  DPHYS_CHECK(!error, "RunOutput: cannot create run folder '{}': {}", folder_, error.message());
  const std::string path = folder_ + "/metrics.csv";
  metrics_ = std::fopen(path.c_str(), "w");
  DPHYS_CHECK(metrics_ != nullptr, "RunOutput: cannot write '{}'", path);
  // A row at a time: a run stopped from outside (a time limit) leaves every row it logged, and no half row.
  std::setvbuf(metrics_, nullptr, _IOLBF, 1 << 12);
  std::fprintf(metrics_, "method,iteration,wall_time_s,loss,error\n");
}

RunOutput::~RunOutput() {
  if (metrics_) std::fclose(metrics_);
}

void RunOutput::log(const std::string& method, std::int64_t iteration, double wall_time_s, double loss,
                    double error) {
  std::fprintf(metrics_, "%s,%lld,%.6f,%.10g,%.10g\n", method.c_str(), static_cast<long long>(iteration),
               wall_time_s, loss, error);
}

void RunOutput::save_field(const std::string& name, const Tensor& field) {
  DPHYS_CHECK(field.dim() >= 2, "save_field: '{}' needs at least 2 axes, got {}", name,
              shape_str(field.shape()));
  const std::int64_t ny = field.shape()[field.dim() - 2], nx = field.shape().back();
  const std::vector<double> values = cast(field, DType::f64).to_vector<double>();  // first example only
  const std::string path = folder_ + "/" + name + ".csv";
  std::FILE* f = std::fopen(path.c_str(), "w");
  DPHYS_CHECK(f != nullptr, "save_field: cannot write '{}'", path);
  for (std::int64_t i = 0; i < ny; ++i)
    for (std::int64_t j = 0; j < nx; ++j)
      std::fprintf(f, "%.8g%c", values[i * nx + j], j + 1 < nx ? ',' : '\n');
  std::fclose(f);
}

void RunOutput::add_value(const std::string& name, double value) { values_.emplace_back(name, value); }
void RunOutput::add_setting(const std::string& name, const std::string& value) {
  settings_.emplace_back(name, value);
}
void RunOutput::add_check(Check check) { checks_.push_back(std::move(check)); }

bool RunOutput::write_summary() const {
  std::fflush(metrics_);
  const std::string path = folder_ + "/summary.json";
  std::FILE* f = std::fopen(path.c_str(), "w");
  DPHYS_CHECK(f != nullptr, "write_summary: cannot write '{}'", path);
  std::string out = "{\n  \"settings\": {";
  for (std::size_t i = 0; i < settings_.size(); ++i)
    out += fmt::format("{}\n    {}: {}", i ? "," : "", json_string(settings_[i].first),
                       json_string(settings_[i].second));
  out += "\n  },\n  \"values\": {";
  for (std::size_t i = 0; i < values_.size(); ++i)
    out += fmt::format("{}\n    {}: {}", i ? "," : "", json_string(values_[i].first),
                       json_number(values_[i].second));
  out += "\n  },\n  \"checks\": [";
  bool all = true;
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    const Check& c = checks_[i];
    all = all && (c.passed || !c.evaluated);
    out += fmt::format(
        "{}\n    {{\"id\": {}, \"description\": {}, \"measured\": {}, \"expected\": {}, \"passed\": {}, "
        "\"note\": {}}}",
        i ? "," : "", json_string(c.id), json_string(c.description), json_number(c.measured),
        json_string(c.expected),
        !c.evaluated ? "null"
        : c.passed   ? "true"
                     : "false",
        json_string(c.note));
  }
  out += fmt::format("\n  ],\n  \"all_evaluated_checks_passed\": {}\n}}\n", all ? "true" : "false");
  std::fputs(out.c_str(), f);
  std::fclose(f);
  return all;
}

Progress::Progress(std::string label, std::int64_t total, std::int64_t first)
    : label_(std::move(label)),
      total_(total),
      first_(first),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::update(std::int64_t iteration, double loss) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_print_ < std::chrono::milliseconds(500) && iteration + 1 < total_) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = static_cast<double>(iteration + 1 - first_) / std::max(elapsed, 1e-9);
  const double eta = (total_ - iteration - 1) / std::max(rate, 1e-9);
  std::fprintf(stderr, "\r%-10s iteration %lld/%lld  loss %.4g  %.2f it/s  ETA %.0f s   ", label_.c_str(),
               static_cast<long long>(iteration + 1), static_cast<long long>(total_), loss, rate, eta);
}

void Progress::finish() { std::fprintf(stderr, "\n"); }

}  // namespace dphys::app
