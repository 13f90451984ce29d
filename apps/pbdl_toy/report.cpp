#include "report.h"

#include <cmath>

namespace dphys::pbdl_toy {

app::Check make_check(std::string id, std::string description, double measured, std::string expected,
                      bool passed, std::string note) {
  return {std::move(id), std::move(description), measured, std::move(expected),
          passed,        std::move(note),        true};
}

app::Check near(std::string id, std::string description, double measured, double target, double tolerance,
                std::string note) {
  return make_check(std::move(id), std::move(description), measured,
                    fmt::format("{} ± {:.3g}", target, tolerance), std::abs(measured - target) <= tolerance,
                    std::move(note));
}

app::Check at_most(std::string id, std::string description, double measured, double bound, std::string note) {
  return make_check(std::move(id), std::move(description), measured, fmt::format("<= {}", bound),
                    measured <= bound, std::move(note));
}

app::Check at_least(std::string id, std::string description, double measured, double bound,
                    std::string note) {
  return make_check(std::move(id), std::move(description), measured, fmt::format(">= {}", bound),
                    measured >= bound, std::move(note));
}

void save_path(app::RunOutput& out, const std::string& name, const Path& path) {
  out.save_field(name, as_tensor(path));
}

void log_path(app::RunOutput& out, const std::string& method, const Path& path, const Loss& loss) {
  // The whole path is one batch of independent problems, so one call evaluates every L(x_k).
  const std::vector<double> losses = loss(as_tensor(path)).to_vector<double>();
  for (std::size_t k = 0; k < path.x.size(); ++k)
    out.log(method, static_cast<std::int64_t>(k), path.seconds[k], losses[k], norm(path.x[k]));
}

}  // namespace dphys::pbdl_toy
