#pragma once
// What the toy experiments write into the run folder: acceptance checks of pbdl_physgrad.md §4, iterate
// paths for plot.py, and metrics.csv rows.
#include <string>

#include "../common/run_output.h"
#include "steps.h"

namespace dphys::pbdl_toy {

app::Check make_check(std::string id, std::string description, double measured, std::string expected,
                      bool passed, std::string note = "");
// |measured − target| ≤ tolerance.
app::Check near(std::string id, std::string description, double measured, double target, double tolerance,
                std::string note = "");
// measured ≤ bound, and measured ≥ bound (a NaN measurement fails both).
app::Check at_most(std::string id, std::string description, double measured, double bound,
                   std::string note = "");
app::Check at_least(std::string id, std::string description, double measured, double bound,
                    std::string note = "");

// The iterates as <name>.csv, one row per iterate.
void save_path(app::RunOutput& out, const std::string& name, const Path& path);
// One metrics.csv row per iterate: L(x_k) and the distance ‖x_k‖ to the optimum at 0.
void log_path(app::RunOutput& out, const std::string& method, const Path& path, const Loss& loss);

}  // namespace dphys::pbdl_toy
