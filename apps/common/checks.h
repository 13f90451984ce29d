#pragma once
// Acceptance checks (run_output.h's Check) built from a measurement and the spec's expectation, shared by
// the experiment apps. A check that is not evaluated (the run is too short for it) never passes.
#include <string>

#include "run_output.h"

namespace dphys::app {

Check make_check(std::string id, std::string description, double measured, std::string expected, bool passed,
                 std::string note = "", bool evaluated = true);
// lo ≤ measured ≤ hi.
Check in_range(std::string id, std::string description, double measured, double lo, double hi,
               std::string note = "", bool evaluated = true);
// |measured − target| ≤ tolerance.
Check near(std::string id, std::string description, double measured, double target, double tolerance,
           std::string note = "", bool evaluated = true);
// measured ≤ bound, and measured ≥ bound. A NaN measurement fails both.
Check at_most(std::string id, std::string description, double measured, double bound, std::string note = "",
              bool evaluated = true);
Check at_least(std::string id, std::string description, double measured, double bound, std::string note = "",
               bool evaluated = true);

}  // namespace dphys::app
