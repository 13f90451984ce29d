// Toy examples of the PBDL chapter "Scale-Invariance and Inversion" (../shared/experiments/pbdl_physgrad.md):
// E1 (§2.1) the α-scaled 2-D toy, E2 (§1.9) first-step scaling laws, E4 (§2.4) the branch-keeping local
// inverse of x², and E5 (§2.5) GD vs Newton vs PG. Everything is f64 and takes about a second on the CPU;
// summary.json holds every acceptance check of §4, and plot.py draws the figures.
#include <chrono>
#include <cstdio>

#include "../common/flags.h"
#include "../common/run_output.h"
#include "engine/error.h"
#include "experiments.h"
#include "steps.h"

using namespace dphys;
using namespace dphys::app;

int main(int argc, char** argv) {
  try {
    Flags flags(
        argc, argv,
        "pbdl_toy: the toy examples of the PBDL chapter on scale invariance and inversion\n"
        "(pbdl_physgrad.md E1, E2, E4, E5). Writes metrics.csv, summary.json (checks 4.1 to 4.8) and\n"
        "the iterate paths that plot.py draws.");
    // Accepted like in the other apps; the toys are deterministic and the full run already takes a second.
    flags.boolean("quick", "accepted for uniformity; the full run is already quick");
    flags.integer("seed", 0, "recorded only: nothing here is random");
    const std::string device = flags.text("device", "cpu", "cpu or cuda (every point and step there)");
    const std::string folder = flags.text("out", "runs/pbdl_toy", "run folder");
    if (!flags.finish()) return 0;
    pbdl_toy::set_run_device(parse_device(device, "pbdl_toy"));

    RunOutput out(folder);
    for (const auto& [name, value] : flags.values()) out.add_setting(name, value);
    const auto start = std::chrono::steady_clock::now();
    const std::pair<const char*, void (*)(RunOutput&)> experiments[] = {
        {"E1 scaling toy", pbdl_toy::run_scaling_toy},
        {"E5 comparison", pbdl_toy::run_comparison},
        {"E2/E4 sensitivity and branch", pbdl_toy::run_sensitivity}};
    for (const auto& [label, run] : experiments) {
      run(out);
      std::printf("%-30s done after %.2f s\n", label,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    out.add_value("wall_time_s",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const bool all = out.write_summary();
    std::printf("results in %s (metrics.csv, summary.json); checks %s\n", folder.c_str(),
                all ? "all passed" : "NOT all passed");
    return 0;
  } catch (const std::exception& e) {  // dphys::Error, and the standard library's (bad_alloc, I/O)
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
