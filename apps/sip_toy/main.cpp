// SIP sine characterisation (../shared/experiments/sip.md §2.3, Fig. 5 b–e): an MLP maps targets y* to
// x with P(x) = y*, trained by SIP (saddle-free Newton as the physics update) and end-to-end by Adam, SGD,
// Adadelta, Adagrad and RMSprop, at several conditionings ξ and couplings φ. Every method starts from the
// same weights and sees the same batches; the runs are independent and run in parallel.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>

#include "../common/checks.h"
#include "../common/flags.h"
#include "../common/run_output.h"
#include "dphys.h"
#include "nn/architectures.h"
#include "optim/adam.h"
#include "optim/adaptive.h"
#include "optim/newton.h"
#include "optim/sgd.h"
#include "optim/trainers.h"
#include "sine_problem.h"

using namespace dphys;
using namespace dphys::app;

namespace {

constexpr double kPi = 3.14159265358979323846;
const std::vector<std::string> kMethods{"sip", "adam", "sgd", "adadelta", "adagrad", "rmsprop"};
const std::vector<std::string> kBaselines{"sgd", "adadelta", "adagrad", "rmsprop"};

// The MLP in f32 on y* [B, 2], handing the physics x as f64.
class SineNetwork : public nn::Module {
 public:
  explicit SineNetwork(Generator& gen) : mlp_(register_module("mlp", nn::make_sip_sine_mlp(gen))) {}
  Tensor forward(const Tensor& y_star) override {
    return cast((*mlp_)(cast(y_star, DType::f32)), DType::f64);
  }

 private:
  std::shared_ptr<nn::Module> mlp_;
};

struct Config {
  double xi, phi_deg;
  bool operator<(const Config& o) const { return std::tie(xi, phi_deg) < std::tie(o.xi, o.phi_deg); }
};

std::string label(const std::string& method, const Config& c) {
  return fmt::format("{}/xi={}/phi={}", method, c.xi, c.phi_deg);
}

struct Settings {
  std::int64_t iterations, sip_iterations, batch, seed, data_seed, log_points;
  std::map<std::string, double> lr;  // sgd: the rate at ξ = 1, divided by ξ²
  Device device = Device::cpu();
};

struct RunResult {
  std::vector<double> distances, losses, wall;  // per iteration (wall: seconds since the run started)
};

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& method, const Settings& s, double xi,
                                                 std::vector<Tensor> parameters) {
  const double lr = s.lr.at(method);
  if (method == "sgd") return std::make_unique<optim::SGD>(parameters, optim::SGDOptions{lr / (xi * xi)});
  if (method == "adadelta") {
    optim::AdadeltaOptions options;
    options.lr = lr;
    return std::make_unique<optim::Adadelta>(parameters, options);
  }
  if (method == "adagrad") {
    optim::AdagradOptions options;
    options.lr = lr;
    return std::make_unique<optim::Adagrad>(parameters, options);
  }
  if (method == "rmsprop") {
    optim::RMSpropOptions options;
    options.lr = lr;
    return std::make_unique<optim::RMSprop>(parameters, options);
  }
  return std::make_unique<optim::Adam>(parameters, optim::AdamOptions{lr});  // sip and adam
}

RunResult train(const std::string& method, const Config& config, std::int64_t iterations, const Settings& s) {
  Generator init(static_cast<std::uint64_t>(s.seed)), data(static_cast<std::uint64_t>(s.data_seed));
  SineNetwork network(init);
  network.to(s.device);
  const SineProblem problem(config.xi, config.phi_deg * kPi / 180.0);
  const std::unique_ptr<optim::Optimizer> optimizer =
      make_optimizer(method, s, config.xi, network.parameters());
  // Loss reduction: the mean over the batch for every method (sip.md §2.3.2).
  optim::SipOptions sip_options;
  sip_options.reduction = optim::BatchReduction::mean;
  optim::SipTrainer sip(network, problem, *optimizer, sip_options);
  optim::EndToEndTrainer end_to_end(network, problem, *optimizer, optim::BatchReduction::mean);

  RunResult result;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t it = 0; it < iterations; ++it) {
    // Drawn on the host, so that both devices see the same batches.
    const Tensor y_star = uniform({s.batch, 2}, -1.0, 1.0, data, DType::f64).to(s.device);
    const optim::StepReport report =
        method == "sip" ? sip.step(y_star, y_star) : end_to_end.step(y_star, y_star);
    DPHYS_CHECK(std::isfinite(report.loss), "sip_toy: {} diverged at iteration {} (loss {})",
                label(method, config), it, report.loss);
    const std::vector<double> d = problem.distance_to_solution(report.prediction, y_star);
    double total = 0;
    for (double v : d) total += v;
    result.distances.push_back(total / static_cast<double>(d.size()));
    result.losses.push_back(report.loss);
    result.wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return result;
}

// The spec's metric: the mean distance over the last 10% of the first `budget` iterations.
double final_distance(const std::vector<double>& distances, std::int64_t budget) {
  const std::int64_t end = std::min<std::int64_t>(budget, static_cast<std::int64_t>(distances.size()));
  const std::int64_t begin = end - std::max<std::int64_t>(1, end / 10);
  double total = 0;
  for (std::int64_t i = begin; i < end; ++i) total += distances[i];
  return total / static_cast<double>(end - begin);
}

// The closed-form g and H that the SIP update uses, against autodiff of L = ½‖P(x) − y*‖² through the
// differentiable forward (largest difference relative to the largest entry), at random points.
double closed_form_derivative_error(std::uint64_t seed) {
  Generator gen(seed);
  double worst = 0;
  for (const double xi : {1.0, 32.0}) {
    const SineProblem problem(xi, 30.0 * kPi / 180.0);
    const Tensor x = uniform({256, 2}, -2.0, 2.0, gen, DType::f64);
    const Tensor y = uniform({256, 2}, -1.0, 1.0, gen, DType::f64);
    const optim::BatchedDerivatives autodiff =
        optim::batched_hessian([&](const Tensor& v) { return problem.loss(problem.forward(v), y); }, x);
    const auto relative = [](const Tensor& closed, const Tensor& reference) {
      NoGradGuard no_grad;
      return max(abs(closed - reference)).item() / max(abs(reference)).item();
    };
    worst = std::max({worst, relative(problem.gradient(x, y), autodiff.grad),
                      relative(problem.hessian(x, y), autodiff.hessian)});
  }
  return worst;
}

// Check 3.3.5 on many random points: the saddle-free update points downhill, and without the cap it is
// the Newton step wherever H is positive definite. Returns {the largest cos∠(g, U) over points with
// g ≠ 0, the largest |U + H⁻¹g| / |H⁻¹g| over positive-definite points}.
std::pair<double, double> saddle_free_properties(std::uint64_t seed) {
  Generator gen(seed);
  double worst_descent = -INFINITY, worst_newton = 0;
  for (const double xi : {1.0, 32.0}) {
    for (const double phi : {0.0, 15.0, 45.0}) {
      const SineProblem capped(xi, phi * kPi / 180.0);
      const std::int64_t n = 4096;
      const Tensor x = uniform({n, 2}, -2.0, 2.0, gen, DType::f64);
      const Tensor y = uniform({n, 2}, -1.0, 1.0, gen, DType::f64);
      const std::vector<double> g = capped.gradient(x, y).to_vector<double>();
      const std::vector<double> h = capped.hessian(x, y).to_vector<double>();
      const std::vector<double> u = capped.inverse_update(x, Tensor(), y).to_vector<double>();
      optim::SaddleFreeOptions uncapped;
      const std::vector<double> v =
          optim::saddle_free_newton_direction(capped.gradient(x, y), capped.hessian(x, y), uncapped)
              .to_vector<double>();
      for (std::int64_t b = 0; b < n; ++b) {
        const double* gb = &g[2 * b];
        if (gb[0] != 0 || gb[1] != 0)
          worst_descent =
              std::max(worst_descent, (gb[0] * u[2 * b] + gb[1] * u[2 * b + 1]) /
                                          (std::hypot(gb[0], gb[1]) * std::hypot(u[2 * b], u[2 * b + 1])));
        // Positive definite with condition number ≤ 1e4: beyond that, rounding alone (cond · ε) exceeds the
        // 1e-10 the check allows, whichever way the step is computed.
        const double* hb = &h[4 * b];
        const double trace = hb[0] + hb[3], det = hb[0] * hb[3] - hb[1] * hb[2];
        const double spread = std::sqrt(std::max(0.0, trace * trace / 4 - det));
        const double lo = trace / 2 - spread, hi = trace / 2 + spread;
        if (lo > 0 && hi <= 1e4 * lo) {
          const double newton0 = -(hb[3] * gb[0] - hb[1] * gb[1]) / det;
          const double newton1 = -(-hb[2] * gb[0] + hb[0] * gb[1]) / det;
          worst_newton = std::max(worst_newton, std::hypot(v[2 * b] - newton0, v[2 * b + 1] - newton1) /
                                                    std::max(1e-300, std::hypot(newton0, newton1)));
        }
      }
    }
  }
  return {worst_descent, worst_newton};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Flags flags(
        argc, argv,
        "sip_toy: the SIP paper's sine characterisation (sip.md 2.3, Fig. 5). Trains SIP (saddle-free\n"
        "Newton) and five end-to-end optimizers at the spec's conditionings ξ and couplings φ.");
    const bool quick = flags.boolean(
        "quick", "about two minutes on 2 cores: 2000 iterations, ξ ∈ {1, 10, 64}, φ ∈ {0, 10, 45}°");
    Settings s;
    s.iterations = flags.integer("iterations", quick ? 2000 : 50000,
                                 "iterations per run, every method (spec: 50k, equal-iteration comparison)");
    s.sip_iterations = flags.integer("sip-iterations", quick ? 2000 : 15000,
                                     "SIP's budget matching the baselines' wall time (spec: 15k)");
    s.batch = flags.integer("batch", 100, "mini-batch size (paper: 100)");
    s.seed = flags.integer("seed", 0, "network initialisation seed (same weights for every run)");
    s.data_seed = flags.integer("data-seed", 0, "training data seed (same batches for every run)");
    s.log_points = flags.integer("log-points", 400, "rows per run in metrics.csv (windowed means)");
    s.lr["sip"] = flags.number("lr-sip", 1e-3, "Adam learning rate of SIP (paper: 1e-3)");
    s.lr["adam"] = flags.number("lr-adam", 1e-3, "Adam learning rate (paper: 1e-3)");
    s.lr["sgd"] = flags.number("lr-sgd", 1e-2, "SGD learning rate at ξ = 1, divided by ξ² (paper: 1e-2/ξ²)");
    s.lr["adadelta"] = flags.number("lr-adadelta", 3e-3, "Adadelta learning rate (paper: 3e-3)");
    s.lr["adagrad"] = flags.number("lr-adagrad", 3e-3, "Adagrad learning rate (paper: 3e-3)");
    s.lr["rmsprop"] = flags.number("lr-rmsprop", 3e-5, "RMSprop learning rate (paper: 3e-5)");
    const std::string xi_flag = flags.text("xi-sweep", quick ? "1,10,64" : "1,3,5,10,20,32,48,64",
                                           "ξ values of the φ = 0 sweep (Fig. 5d)");
    const std::string phi_flag = flags.text("phi-sweep", quick ? "0,10,45" : "0,1,3,5,10,23,35,40,45",
                                            "φ values in degrees of the ξ = 32 sweep (Fig. 5e)");
    const std::string methods_flag =
        flags.text("methods", "sip,adam,sgd,adadelta,adagrad,rmsprop", "comma-separated subset");
    const std::string device =
        flags.text("device", "cpu", "cpu or cuda (network, batches and physics there)");
    const std::string folder = flags.text("out", quick ? "runs/sip_toy_quick" : "runs/sip_toy", "run folder");
    if (!flags.finish()) return 0;
    s.device = parse_device(device, "sip_toy");
    DPHYS_CHECK(
        s.iterations >= 10 && s.sip_iterations >= 10 && s.sip_iterations <= s.iterations && s.batch >= 1 &&
            s.log_points >= 1,
        "sip_toy: need iterations >= 10, 10 <= sip-iterations <= iterations, batch >= 1, log-points >= 1");
    const auto parse = [](const std::string& list, const char* what) {
      std::vector<std::string> items;
      std::stringstream in(list);
      for (std::string item; std::getline(in, item, ',');) items.push_back(item);
      DPHYS_CHECK(!items.empty(), "sip_toy: --{} is empty", what);
      return items;
    };
    std::vector<std::string> methods = parse(methods_flag, "methods");
    for (std::size_t i = 0; i < methods.size(); ++i) {
      DPHYS_CHECK(s.lr.count(methods[i]),
                  "sip_toy: unknown method '{}' (choose from sip, adam, sgd, adadelta, adagrad, rmsprop)",
                  methods[i]);
      DPHYS_CHECK(std::find(methods.begin(), methods.begin() + i, methods[i]) == methods.begin() + i,
                  "sip_toy: --methods names '{}' twice", methods[i]);
    }
    // Parsed as the flags are: std::stod took "1abc" as 1, and a NaN broke the ordering of the sweep map.
    std::vector<double> xis, phis;
    for (const std::string& v : parse(xi_flag, "xi-sweep")) xis.push_back(parse_number(v, "--xi-sweep"));
    for (const std::string& v : parse(phi_flag, "phi-sweep")) phis.push_back(parse_number(v, "--phi-sweep"));

    // Fig. 5b (ξ = 1, φ = 45°), 5c (ξ = 32, φ = 45°), 5d (φ = 0), 5e (ξ = 32); shared points run once.
    std::map<Config, std::vector<std::string>> panels;
    panels[{1, 45}].push_back("5b");
    panels[{32, 45}].push_back("5c");
    for (double xi : xis) panels[{xi, 0}].push_back("5d");
    for (double phi : phis) panels[{32, phi}].push_back("5e");
    std::vector<std::pair<std::string, Config>> runs;
    for (const auto& [config, unused] : panels)
      for (const std::string& m : methods) runs.push_back({m, config});

    RunOutput out(folder);
    for (const auto& [name, value] : flags.values()) out.add_setting(name, value);
    std::vector<RunResult> results(runs.size());
    std::exception_ptr error;  // written under the mutex; `failed` is what the other threads read
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::atomic<int> done{0};
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t r = 0; r < runs.size(); ++r) {
      if (failed) continue;
      try {
        results[r] = train(runs[r].first, runs[r].second, s.iterations, s);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::lock_guard<std::mutex> lock(mutex);
        const int finished = ++done;
        std::fprintf(stderr, "[%d/%zu] %-28s final distance %.3g, %.3f ms/iteration, ETA %.0f s\n", finished,
                     runs.size(), label(runs[r].first, runs[r].second).c_str(),
                     final_distance(results[r].distances, s.iterations),
                     1e3 * results[r].wall.back() / static_cast<double>(s.iterations),
                     elapsed / finished * static_cast<double>(runs.size() - finished));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
    if (error) std::rethrow_exception(error);

    // Curves as windowed means; the finals per run at both budgets.
    std::map<std::string, std::map<Config, double>> equal, budget;
    std::map<std::string, std::map<Config, double>> initial;
    std::FILE* sweeps = std::fopen((folder + "/sweeps.csv").c_str(), "w");
    DPHYS_CHECK(sweeps, "sip_toy: cannot write {}/sweeps.csv", folder);
    std::fprintf(sweeps, "method,xi,phi_deg,panels,final_distance,final_distance_budget,ms_per_iteration\n");
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const auto& [method, config] = runs[r];
      const RunResult& run = results[r];
      const std::int64_t window = std::max<std::int64_t>(1, s.iterations / s.log_points);
      for (std::int64_t begin = 0; begin < s.iterations; begin += window) {
        const std::int64_t end = std::min(begin + window, s.iterations);
        double d = 0, l = 0;
        for (std::int64_t i = begin; i < end; ++i) {
          d += run.distances[i];
          l += run.losses[i];
        }
        out.log(label(method, config), end - 1, run.wall[end - 1], l / (end - begin), d / (end - begin));
      }
      const std::int64_t own_budget = method == "sip" ? s.sip_iterations : s.iterations;
      equal[method][config] = final_distance(run.distances, s.iterations);
      budget[method][config] = final_distance(run.distances, own_budget);
      initial[method][config] = run.distances.front();
      std::string panel_list;
      for (const std::string& p : panels[config]) panel_list += (panel_list.empty() ? "" : " ") + p;
      std::fprintf(sweeps, "%s,%g,%g,%s,%.6g,%.6g,%.4f\n", method.c_str(), config.xi, config.phi_deg,
                   panel_list.c_str(), equal[method][config], budget[method][config],
                   1e3 * run.wall.back() / static_cast<double>(s.iterations));
      out.add_value("final." + label(method, config), equal[method][config]);
    }
    std::fclose(sweeps);

    const bool all_methods = methods.size() == kMethods.size();
    const std::string scale = s.iterations == 50000 && s.sip_iterations == 15000
                                  ? ""
                                  : fmt::format("{} iterations (spec: 15k SIP, 50k others); ", s.iterations);
    const std::string quick_note = quick ? "quick mode: indicative only; " : "";
    // A check that needs the baselines to have trained long (Adam's progress at ξ = 32, the baselines'
    // accuracy at ξ = 1) is reported as not evaluated in shorter runs.
    const bool long_run = s.iterations >= 15000;
    const std::string long_note = long_run ? "" : "needs >= 15k iterations (the baselines' slow progress)";
    // The spec's checks, once with SIP at its 15k budget (wall-clock matched) and once at equal iterations.
    const auto add_sweep_checks = [&](std::map<std::string, std::map<Config, double>>& finals,
                                      const std::string& suffix, const std::string& when) {
      // 3.3.1: ξ = 32, φ = 45°.
      const Config c{32, 45};
      double others = INFINITY, weakest_ratio = INFINITY;
      for (const std::string& m : kBaselines) {
        others = std::min(others, finals[m][c]);
        weakest_ratio = std::min(weakest_ratio, finals[m][c] / finals["adam"][c]);
      }
      out.add_check(make_check("3.3.1" + suffix, "ξ=32, φ=45°: SIP < Adam < min(others)" + when,
                               finals["sip"][c] / finals["adam"][c], "SIP/Adam < 1 and Adam < others",
                               finals["sip"][c] < finals["adam"][c] && finals["adam"][c] < others,
                               quick_note + scale));
      out.add_check(make_check(
          "3.3.1" + suffix, "ξ=32, φ=45°: every other optimizer ≥ 3× worse than Adam" + when, weakest_ratio,
          "≥ 3", long_run && weakest_ratio >= 3, quick_note + scale + long_note, long_run));
      // 3.3.2: ξ = 1, φ = 45°: everyone converges.
      const Config easy{1, 45};
      double worst_progress = 0, lo = INFINITY, hi = 0;
      for (const std::string& m : kMethods) {
        worst_progress = std::max(worst_progress, finals[m][easy] / initial[m][easy]);
        lo = std::min(lo, finals[m][easy]);
        hi = std::max(hi, finals[m][easy]);
      }
      out.add_check(make_check("3.3.2" + suffix, "ξ=1, φ=45°: final/initial distance, worst method" + when,
                               worst_progress, "≤ 0.1", worst_progress <= 0.1, quick_note + scale));
      out.add_check(make_check(
          "3.3.2" + suffix, "ξ=1, φ=45°: final distances in [2e-4/3, 2e-2·3] (max shown)" + when, hi,
          fmt::format("[6.7e-05, 0.06], min {:.3g}", lo), lo >= 2e-4 / 3 && hi <= 6e-2, quick_note + scale));
      // 3.3.3: the ξ sweep at φ = 0 (relative accuracy distance/ξ).
      if (xis.size() >= 2) {
        const double xi_lo = *std::min_element(xis.begin(), xis.end()),
                     xi_hi = *std::max_element(xis.begin(), xis.end());
        double sip_max = 0, sip_min = INFINITY;
        for (double xi : xis) {
          sip_max = std::max(sip_max, finals["sip"][{xi, 0}] / xi);
          sip_min = std::min(sip_min, finals["sip"][{xi, 0}] / xi);
        }
        out.add_check(make_check("3.3.3" + suffix,
                                 "φ=0: SIP's relative accuracy max/min over the ξ sweep" + when,
                                 sip_max / sip_min, "≤ 10", sip_max / sip_min <= 10, quick_note + scale));
        double weakest = INFINITY;
        for (const std::string& m : kBaselines)
          weakest = std::min(weakest, (finals[m][{xi_hi, 0}] / xi_hi) / (finals[m][{xi_lo, 0}] / xi_lo));
        out.add_check(
            make_check("3.3.3" + suffix,
                       fmt::format("φ=0: relative accuracy at ξ={} / at ξ={}, weakest of SGD, Adadelta, "
                                   "Adagrad, RMSprop{}",
                                   xi_hi, xi_lo, when),
                       weakest, "≥ 10", long_run && weakest >= 10, quick_note + scale + long_note, long_run));
        double margin = INFINITY;
        for (double xi : xis) {
          if (xi < 20) continue;
          for (const std::string& m : kMethods)
            if (m != "sip") margin = std::min(margin, finals[m][{xi, 0}] / finals["sip"][{xi, 0}]);
        }
        out.add_check(make_check("3.3.3" + suffix,
                                 "φ=0: SIP best for every ξ ≥ 20 (smallest other/SIP ratio)" + when, margin,
                                 "> 1", margin > 1, quick_note + scale));
      }
      // 3.3.4: the φ sweep at ξ = 32.
      if (phis.size() >= 2) {
        const double phi_lo = *std::min_element(phis.begin(), phis.end());
        const double phi_hi = *std::max_element(phis.begin(), phis.end());
        const double adam_growth = finals["adam"][{32, phi_hi}] / finals["adam"][{32, phi_lo}];
        out.add_check(make_check(
            "3.3.4" + suffix,
            fmt::format("ξ=32: Adam's distance at φ={}° / at φ={}°{}", phi_hi, phi_lo, when), adam_growth,
            "≥ 3", long_run && adam_growth >= 3, quick_note + scale + long_note, long_run));
        double sip_max = 0, sip_min = INFINITY, margin = INFINITY;
        for (double phi : phis) {
          sip_max = std::max(sip_max, finals["sip"][{32, phi}]);
          sip_min = std::min(sip_min, finals["sip"][{32, phi}]);
          if (phi >= 10) margin = std::min(margin, finals["adam"][{32, phi}] / finals["sip"][{32, phi}]);
        }
        out.add_check(make_check("3.3.4" + suffix, "ξ=32: SIP's max/min distance over the φ sweep" + when,
                                 sip_max / sip_min, "≤ 3", sip_max / sip_min <= 3, quick_note + scale));
        out.add_check(make_check("3.3.4" + suffix,
                                 "ξ=32: SIP beats Adam for every φ ≥ 10° (smallest Adam/SIP)" + when, margin,
                                 "> 1", margin > 1, quick_note + scale));
      }
    };
    if (all_methods) {
      add_sweep_checks(budget, "", " (SIP at its budget, baselines at theirs)");
      add_sweep_checks(equal, ".equal", " (every method at equal iterations)");
    }
    const double derivative_error = closed_form_derivative_error(static_cast<std::uint64_t>(s.seed) + 23);
    out.add_check(make_check(
        "3.3.5", "closed-form g and H of the sine problem equal autodiff's (max relative difference)",
        derivative_error, "≤ 1e-12", derivative_error <= 1e-12));
    const auto [descent, newton] = saddle_free_properties(static_cast<std::uint64_t>(s.seed) + 17);
    out.add_check(make_check("3.3.5",
                             "saddle-free update points downhill: max cos(g, U) over 24k random points",
                             descent, "< 0", descent < 0));
    out.add_check(make_check(
        "3.3.5", "uncapped update equals −H⁻¹g where H is positive definite, cond ≤ 1e4 (max relative error)",
        newton, "≤ 1e-10", newton <= 1e-10));
    const bool all = out.write_summary();
    std::printf("results in %s (metrics.csv, sweeps.csv, summary.json); evaluated checks %s\n",
                folder.c_str(), all ? "all passed" : "NOT all passed");
    return 0;
  } catch (const std::exception& e) {  // dphys::Error, and the standard library's (bad_alloc, I/O)
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
