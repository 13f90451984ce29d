// SIP heat-equation experiment (../shared/experiments/sip.md §2.5, Fig. 6 c–d): a U-net learns to invert
// 64×64 periodic heat diffusion with ν·t = 8, trained by SIP (the damped spectral inverse as physics update)
// against end-to-end Adam and SGD. Every method starts from the same weights and trains on the same batches:
// the methods advance in lockstep, each taking its step on the batch drawn for that iteration. A long run can
// be split over several sittings with checkpoints (--checkpoint-every, --stop-at, --resume).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "../common/checkpoint.h"
#include "../common/checks.h"
#include "../common/flags.h"
#include "../common/run_output.h"
#include "dphys.h"
#include "heat_data.h"
#include "methods.h"
#include "solvers/heat_sources.h"

using namespace dphys;
using namespace dphys::app;

namespace {

// Per method and iteration: the wall-clock time of the method so far (its steps plus the shared data
// generation), the loss before the update and the x-space error of the prediction.
struct History {
  std::vector<double> wall, loss, error;
};

// Mean of the logged error over iterations [0.9n, 1.1n] (at least 5 iterations), as §3 defines it.
double error_at(const std::vector<double>& errors, std::int64_t n) {
  std::int64_t lo = static_cast<std::int64_t>(0.9 * n), hi = static_cast<std::int64_t>(1.1 * n);
  if (hi - lo < 5) hi = lo + 5;
  hi = std::min<std::int64_t>(hi, static_cast<std::int64_t>(errors.size()) - 1);
  double total = 0.0;
  for (std::int64_t i = lo; i <= hi; ++i) total += errors[i];
  return total / static_cast<double>(hi - lo + 1);
}

Tensor history_tensor(const History& h) {
  std::vector<double> rows;
  for (std::size_t i = 0; i < h.wall.size(); ++i) rows.insert(rows.end(), {h.wall[i], h.loss[i], h.error[i]});
  return from_vector(rows, {static_cast<std::int64_t>(h.wall.size()), 3}, DType::f64);
}

History history_from(const Tensor& rows, std::int64_t iterations, const std::string& source) {
  DPHYS_CHECK(rows.dtype() == DType::f64 && rows.shape() == Shape({iterations, 3}),
              "sip_heat: {}: a method's history is {} {}, expected [{}, 3] f64", source,
              shape_str(rows.shape()), dtype_name(rows.dtype()), iterations);
  const std::vector<double> values = rows.to_vector<double>();
  History h;
  for (std::int64_t i = 0; i < iterations; ++i) {
    h.wall.push_back(values[3 * i]);
    h.loss.push_back(values[3 * i + 1]);
    h.error.push_back(values[3 * i + 2]);
  }
  return h;
}

Tensor count_tensor(std::uint64_t count) { return from_indices({static_cast<std::int64_t>(count)}, {1}); }
std::uint64_t count_from(const Tensor& t, const std::string& name, const std::string& source) {
  DPHYS_CHECK(t.dtype() == DType::i64 && t.shape() == Shape{1},
              "sip_heat: {}: '{}' is {} {}, expected [1] i64", source, name, shape_str(t.shape()),
              dtype_name(t.dtype()));
  const std::int64_t value = t.to_vector<std::int64_t>()[0];
  DPHYS_CHECK(value >= 0, "sip_heat: {}: '{}' is negative ({})", source, name, value);
  return static_cast<std::uint64_t>(value);
}

// Everything the rest of the run depends on after `iterations` iterations.
NamedTensors checkpoint_state(std::int64_t iterations, const Generator& data,
                              const std::vector<std::unique_ptr<HeatMethod>>& methods,
                              const std::map<std::string, History>& histories) {
  NamedTensors state{{"iteration", count_tensor(static_cast<std::uint64_t>(iterations))},
                     {"data.offset", count_tensor(data.offset())}};
  for (const auto& method : methods) {
    state.emplace_back(method->name() + ".history", history_tensor(histories.at(method->name())));
    append_prefixed(method->name() + ".", method->state(), state);
  }
  return state;
}

// Restores the methods, the data generator and the logged histories from `checkpoint`; returns the
// iteration it was taken after.
std::int64_t restore(const RunCheckpoint& checkpoint, std::int64_t iterations, Generator& data,
                     const std::vector<std::unique_ptr<HeatMethod>>& methods,
                     std::map<std::string, History>& histories) {
  const std::string& source = checkpoint.path();
  const NamedTensors state = checkpoint.load();
  const auto first =
      static_cast<std::int64_t>(count_from(entry(state, "iteration", source), "iteration", source));
  DPHYS_CHECK(first <= iterations, "sip_heat: {} is at iteration {}, past --iterations {}", source, first,
              iterations);
  data.set_offset(count_from(entry(state, "data.offset", source), "data.offset", source));
  for (const auto& method : methods) {
    const std::string prefix = method->name() + ".";
    NamedTensors method_state;
    for (auto& [name, tensor] : entries_under(prefix, state))
      if (name != "history") method_state.emplace_back(name, tensor);
    method->load_state(method_state, source);
    histories[method->name()] = history_from(entry(state, prefix + "history", source), first, source);
  }
  return first;
}

// The acceptance checks of sip.md §3.5 that this run can evaluate, and the qualitative ordering.
void add_checks(RunOutput& out, std::int64_t batch, std::int64_t iterations, std::int64_t test_batch,
                const std::map<std::string, History>& histories,
                const std::map<std::string, double>& test_error) {
  const std::string scale = batch == 128 ? "" : fmt::format("batch {} instead of 128; ", batch);
  const bool has500 = iterations >= 551;
  if (histories.count("sip") && histories.count("adam")) {
    const auto& sip = histories.at("sip").error;
    const auto& adam = histories.at("adam").error;
    const bool has100 = iterations >= 111, has10k = iterations >= 11001;
    out.add_check(in_range("3.5.1", "ratio error(Adam)/error(SIP) at iteration 100",
                           has100 ? error_at(adam, 100) / error_at(sip, 100) : NAN, 1.15, 1.7,
                           scale + (has100 ? "" : "needs >= 111 iterations"), has100));
    out.add_check(in_range("3.5.2", "ratio error(Adam)/error(SIP) at iteration 10k",
                           has10k ? error_at(adam, 10000) / error_at(sip, 10000) : NAN, 1.7, 3.2,
                           has10k ? scale : "needs >= 11001 iterations (full run)", has10k));
    const bool trained10k = iterations >= 10000 && test_batch >= 128;
    out.add_check(in_range("3.5.3", "held-out error, SIP", test_error.at("sip"), 35, 70,
                           trained10k ? "" : "needs the full 10k-iteration run", trained10k));
    out.add_check(in_range("3.5.3", "held-out error, Adam", test_error.at("adam"), 90, 160,
                           trained10k ? "" : "needs the full 10k-iteration run", trained10k));
    if (histories.count("sgd"))
      out.add_check(in_range("3.5.3", "held-out error, SGD", test_error.at("sgd"), 85, 160,
                             trained10k ? "" : "needs the full 10k-iteration run", trained10k));
    out.add_check(in_range("3.5.4", "error(SIP)/error(Adam) at iteration 500",
                           has500 ? error_at(sip, 500) / error_at(adam, 500) : NAN, 0.0, 0.8,
                           has500 ? scale : "needs >= 551 iterations", has500));
    // The qualitative ordering, evaluated at any length: SIP ahead of Adam at equal iterations.
    const std::int64_t final_iteration = iterations - 1;
    out.add_check(make_check("order.train",
                             "SIP's training error below Adam's over the last 10% of iterations",
                             error_at(sip, final_iteration) / error_at(adam, final_iteration), "< 1",
                             error_at(sip, final_iteration) < error_at(adam, final_iteration), scale));
    out.add_check(make_check("order.test", "SIP's held-out error below Adam's",
                             test_error.at("sip") / test_error.at("adam"), "< 1",
                             test_error.at("sip") < test_error.at("adam"), scale));
  }
  // 3.5.4's other half: the end-to-end methods decelerate early. The mean per-iteration decrease of the log
  // error over iterations 50–500 is at most 1/5 of that over iterations 5–30.
  for (const std::string m : {"adam", "sgd", "adahessian"}) {
    if (!histories.count(m)) continue;
    const auto& e = histories.at(m).error;
    double early = NAN, late = NAN;
    if (has500) {
      early = std::log(error_at(e, 5) / error_at(e, 30)) / 25.0;
      late = std::log(error_at(e, 50) / error_at(e, 500)) / 450.0;
    }
    // Only a method that improved early can decelerate.
    out.add_check(make_check("3.5.4", m + ": log-error decrease per iteration over 50-500 / over 5-30",
                             late / early, "<= 0.2, with a positive rate over 5-30",
                             early > 0 && late / early <= 0.2, has500 ? scale : "needs >= 551 iterations",
                             has500));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Flags flags(
        argc, argv,
        "sip_heat: the SIP paper's heat-equation inverse problem (sip.md 2.5). Trains SIP, Adam and SGD\n"
        "from identical weights on identical batches and writes metrics.csv, summary.json and fields.");
    const bool quick =
        flags.boolean("quick", "about a minute on 2 cores: batch 16, 120 iterations, test batch 32");
    const std::int64_t iterations = flags.integer(
        "iterations", quick ? 120 : 11001,
        "training iterations per method (paper: 10k; 11001 lets the error at 10k average over [9000, 11000] "
        "as sip.md §3 defines it)");
    const std::int64_t batch = flags.integer("batch", quick ? 16 : 128, "mini-batch size (paper: 128)");
    const std::int64_t test_batch =
        flags.integer("test-batch", quick ? 32 : 128, "held-out examples (paper: 128)");
    const std::int64_t seed =
        flags.integer("seed", 0, "network initialisation seed (same weights for every method)");
    const std::int64_t data_seed =
        flags.integer("data-seed", 0, "training data seed (same batches for every method)");
    std::map<std::string, double> lr;
    lr["sip"] = flags.number("lr-sip", 1e-3, "Adam learning rate of SIP (paper: 1e-3)");
    lr["adam"] = flags.number("lr-adam", 1e-3, "end-to-end Adam learning rate (paper: 1e-3)");
    lr["sgd"] =
        flags.number("lr-sgd", 2e-6, "end-to-end SGD learning rate (reference code: 2e-6, sip.md A6)");
    lr["adahessian"] = flags.number("lr-adahessian", 1e-3, "AdaHessian learning rate (paper: 1e-3)");
    lr["hessian_free"] = flags.number("lr-hessian-free", 1.0, "Hessian-free step scale (paper: 1.0)");
    const std::int64_t hf_cg_iterations =
        flags.integer("hf-cg-iterations", quick ? 10 : 250, "Hessian-free CG iterations per step");
    const std::string methods_flag =
        flags.text("methods", quick ? "sip,adam,sgd" : "sip,adam,sgd,adahessian,hessian_free",
                   "comma-separated subset of sip,adam,sgd,adahessian,hessian_free");
    const std::string device_flag =
        flags.text("device", "cpu", "cpu or cuda (the network, the data and the physics)");
    const std::string folder =
        flags.text("out", quick ? "runs/sip_heat_quick" : "runs/sip_heat", "run folder");
    const std::int64_t checkpoint_every = flags.integer(
        "checkpoint-every", 0,
        "write <out>/checkpoint.bin every N iterations, so --resume can continue the run (0: never)");
    const std::int64_t stop_at = flags.integer(
        "stop-at", 0,
        "stop after iteration N with a checkpoint, to continue later with --resume (0: run to the end)");
    const bool resume = flags.boolean("resume",
                                      "continue the run in --out from its checkpoint, given the flags it was "
                                      "started with (from the start when there is no checkpoint yet)");
    if (!flags.finish()) return 0;
    const Device device = parse_device(device_flag, "sip_heat");
    DPHYS_CHECK(iterations >= 1 && batch >= 2 && test_batch >= 1,
                "sip_heat: need iterations >= 1, batch >= 2 (batch norm) and test-batch >= 1");
    DPHYS_CHECK(checkpoint_every >= 0 && stop_at >= 0,
                "sip_heat: --checkpoint-every and --stop-at must be >= 0");
    std::vector<std::string> names;
    DPHYS_CHECK(methods_flag.empty() || methods_flag.back() != ',',
                "sip_heat: --methods '{}' ends with a comma", methods_flag);
    std::stringstream list(methods_flag);
    for (std::string m; std::getline(list, m, ',');) {
      DPHYS_CHECK(lr.count(m), "sip_heat: unknown method '{}' (choose from {})", m,
                  fmt::join(heat_method_names(), ", "));
      DPHYS_CHECK(std::find(names.begin(), names.end(), m) == names.end(),
                  "sip_heat: method '{}' is listed twice", m);
      names.push_back(m);
    }
    DPHYS_CHECK(!names.empty(), "sip_heat: --methods names no method");
    const bool checkpointing = checkpoint_every > 0 || stop_at > 0;

    // Before RunOutput, which starts metrics.csv afresh: a run's checkpoint is never overwritten by accident.
    const RunCheckpoint checkpoint(folder);
    const bool resuming = resume && checkpoint.exists();
    DPHYS_CHECK(resume || !checkpoint.exists(),
                "sip_heat: '{}' holds the checkpoint of an earlier run; pass --resume to continue it, or "
                "choose another --out",
                checkpoint.path());
    if (resuming) checkpoint.check_resumable(flags.values(), {"resume", "checkpoint-every", "stop-at"});

    // The methods check their hyperparameters (a NaN learning rate, say) before RunOutput clears the folder.
    std::vector<std::unique_ptr<HeatMethod>> methods;
    std::map<std::string, History> histories;
    for (const std::string& m : names) {
      HeatMethodOptions options;
      options.lr = lr.at(m);
      options.seed = static_cast<std::uint64_t>(seed);
      options.hf_cg_iterations = hf_cg_iterations;
      options.device = device;
      methods.push_back(std::make_unique<HeatMethod>(m, options));
      histories[m];
    }

    RunOutput out(folder);
    if (checkpointing && !resuming) checkpoint.start(flags.values());
    for (const auto& [name, value] : flags.values()) out.add_setting(name, value);
    Generator test_gen(static_cast<std::uint64_t>(data_seed) + 1000003);
    const Tensor test_x = sip_heat_sources(test_batch, kHeatGrid, test_gen);
    out.save_field("example_x_star", test_x);
    out.save_field("example_y_star", HeatProblem().forward(test_x));

    Generator data(static_cast<std::uint64_t>(data_seed));
    std::int64_t first = 0;
    if (resuming) {
      first = restore(checkpoint, iterations, data, methods, histories);
      for (std::int64_t it = 0; it < first; ++it)  // in the order the uninterrupted run logs them
        for (const auto& method : methods) {
          const History& h = histories[method->name()];
          out.log(method->name(), it, h.wall[it], h.loss[it], h.error[it]);
        }
      std::printf("resuming %s at iteration %lld of %lld\n", folder.c_str(), static_cast<long long>(first),
                  static_cast<long long>(iterations));
    }

    DPHYS_CHECK(stop_at == 0 || stop_at > first,
                "sip_heat: --stop-at {}, but the run is already at iteration {}", stop_at, first);
    const std::int64_t last = stop_at > 0 ? std::min(stop_at, iterations) : iterations;
    // A run that keeps a checkpoint saves one where it stops or ends, so that the checkpoint never lags
    // behind the run (a later --resume would redo the iterations in between).
    const bool keeps_checkpoint = checkpointing || resuming;
    Progress progress(methods_flag, last, first);
    using Clock = std::chrono::steady_clock;
    const auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };
    for (std::int64_t it = first; it < last; ++it) {
      const auto data_start = Clock::now();
      const Tensor x_star = sip_heat_sources(batch, kHeatGrid, data, device);
      const Tensor y_star = HeatProblem().forward(x_star);
      const double data_seconds = seconds_since(data_start);
      double loss = 0.0;
      for (const auto& method : methods) {
        const auto step_start = Clock::now();
        const optim::StepReport report = method->step(y_star);
        const double error = heat_error(report.prediction, x_star);
        DPHYS_CHECK(std::isfinite(report.loss) && std::isfinite(error),
                    "sip_heat: {} diverged at iteration {} (loss {}, error {})", method->name(), it,
                    report.loss, error);
        History& h = histories[method->name()];
        h.wall.push_back((h.wall.empty() ? 0.0 : h.wall.back()) + data_seconds + seconds_since(step_start));
        h.loss.push_back(report.loss);
        h.error.push_back(error);
        out.log(method->name(), it, h.wall.back(), report.loss, error);
        loss = report.loss;
      }
      progress.update(it, loss);
      const bool due =
          (checkpoint_every > 0 && (it + 1) % checkpoint_every == 0) || (keeps_checkpoint && it + 1 == last);
      if (due) checkpoint.save(checkpoint_state(it + 1, data, methods, histories));
    }
    progress.finish();
    if (last < iterations) {
      std::printf(
          "stopped at iteration %lld of %lld; %s holds the checkpoint: continue with the same "
          "flags and --resume\n",
          static_cast<long long>(last), static_cast<long long>(iterations), checkpoint.path().c_str());
      return 0;
    }

    std::map<std::string, double> test_error;
    for (const auto& method : methods) {
      const std::string& m = method->name();
      const std::vector<double>& errors = histories[m].error;
      const Tensor x = test_x.to(device);
      const Tensor prediction = method->predict(HeatProblem().forward(x));
      test_error[m] = heat_error(prediction, x);
      // The loop checks the loss before each update; the last update can still diverge.
      DPHYS_CHECK(std::isfinite(test_error[m]),
                  "sip_heat: {} diverged in its last update (held-out error {})", m, test_error[m]);
      const double seconds_per_iteration = histories[m].wall.back() / static_cast<double>(iterations);
      out.add_value(m + ".test_error", test_error[m]);
      out.add_value(m + ".final_train_error", error_at(errors, iterations - 1));
      out.add_value(m + ".seconds_per_iteration", seconds_per_iteration);
      out.save_field("example_" + m, prediction);
      std::printf("%-5s test error %.2f, final training error %.2f, %.3f s/iteration\n", m.c_str(),
                  test_error[m], error_at(errors, iterations - 1), seconds_per_iteration);
    }

    add_checks(out, batch, iterations, test_batch, histories, test_error);
    const bool all = out.write_summary();
    std::printf("results in %s (metrics.csv, summary.json); evaluated checks %s\n", folder.c_str(),
                all ? "all passed" : "NOT all passed");
    return 0;
  } catch (const std::exception& e) {  // dphys::Error, and the standard library's (bad_alloc, I/O)
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
