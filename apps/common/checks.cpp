#include "checks.h"

#include <cmath>

#include <fmt/format.h>

namespace dphys::app {

Check make_check(std::string id, std::string description, double measured, std::string expected, bool passed,
                 std::string note, bool evaluated) {
  return Check{std::move(id),       std::move(description), measured, std::move(expected),
               evaluated && passed, std::move(note),        evaluated};
}

Check in_range(std::string id, std::string description, double measured, double lo, double hi,
               std::string note, bool evaluated) {
  return make_check(std::move(id), std::move(description), measured, fmt::format("[{}, {}]", lo, hi),
                    measured >= lo && measured <= hi, std::move(note), evaluated);
}

Check near(std::string id, std::string description, double measured, double target, double tolerance,
           std::string note, bool evaluated) {
  return make_check(std::move(id), std::move(description), measured,
                    fmt::format("{} ± {:.3g}", target, tolerance), std::abs(measured - target) <= tolerance,
                    std::move(note), evaluated);
}

Check at_most(std::string id, std::string description, double measured, double bound, std::string note,
              bool evaluated) {
  return make_check(std::move(id), std::move(description), measured, fmt::format("<= {}", bound),
                    measured <= bound, std::move(note), evaluated);
}

Check at_least(std::string id, std::string description, double measured, double bound, std::string note,
               bool evaluated) {
  return make_check(std::move(id), std::move(description), measured, fmt::format(">= {}", bound),
                    measured >= bound, std::move(note), evaluated);
}

}  // namespace dphys::app
