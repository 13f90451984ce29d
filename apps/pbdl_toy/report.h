#pragma once
// What the toy experiments write into the run folder: acceptance checks of pbdl_physgrad.md §4, iterate
// paths for plot.py, and metrics.csv rows.
#include <string>

#include "../common/checks.h"
#include "../common/run_output.h"
#include "steps.h"

namespace dphys::pbdl_toy {

// The checks are the apps' shared ones (apps/common/checks.h).
using app::at_least;
using app::at_most;
using app::make_check;
using app::near;

// The iterates as <name>.csv, one row per iterate.
void save_path(app::RunOutput& out, const std::string& name, const Path& path);
// One metrics.csv row per iterate: L(x_k) and the distance ‖x_k‖ to the optimum at 0.
void log_path(app::RunOutput& out, const std::string& method, const Path& path, const Loss& loss);

}  // namespace dphys::pbdl_toy
