// The per-example phases of batched CG (solvers/cg_control.h): one thread per example.
#include "engine/cuda/launch.h"
#include "solvers/cg_control.h"

namespace dphys::device_kernel {

void cg_control(cg_control::Phase phase, const cg_control::Record& record, const double* values,
                const double* second, int iteration, double abs_tol, double rel_tol) {
  const cg_control::Record s = record;
  for_each("cg_control", s.batch, [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    cg_control::run(phase, s, i, values, second, iteration, abs_tol, rel_tol);
  });
}

}  // namespace dphys::device_kernel
