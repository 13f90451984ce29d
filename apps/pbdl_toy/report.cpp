#include "report.h"

#include <cmath>

namespace dphys::pbdl_toy {

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
