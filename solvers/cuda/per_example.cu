// One thread per example: each runs the shared per-example integrator of oscillator_chain.h or
// crank_nicolson_well.h on its own rows of the batch.
#include "engine/cuda/launch.h"
#include "solvers/per_example_device.h"

namespace dphys::device_kernel {

void oscillator_rollout(const oscillator_chain::Chain& chain, std::int64_t batch, std::int64_t steps,
                        const double* s0, const double* u, double* trajectory, double* scratch) {
  const oscillator_chain::Chain c = chain;
  const std::int64_t m = 2 * c.n, work = oscillator_chain::kScratchPerOscillator * c.n;
  for_each("oscillator_rollout", batch, [=] DPHYS_HOST_DEVICE(std::int64_t b) {
    oscillator_chain::rollout(c, s0 + b * m, u + b * steps, steps, trajectory + b * (steps + 1) * m,
                              scratch + b * work);
  });
}

void oscillator_adjoint(const oscillator_chain::Chain& chain, std::int64_t batch, std::int64_t steps,
                        const double* trajectory, const double* u, const double* g, double* s_bar,
                        double* u_bar, double* scratch) {
  const oscillator_chain::Chain c = chain;
  const std::int64_t m = 2 * c.n, work = oscillator_chain::kScratchPerOscillator * c.n;
  for_each("oscillator_adjoint", batch, [=] DPHYS_HOST_DEVICE(std::int64_t b) {
    oscillator_chain::adjoint(c, trajectory + b * (steps + 1) * m, u + b * steps, g + b * (steps + 1) * m,
                              steps, s_bar + b * m, u_bar + b * steps, scratch + b * work);
  });
}

void crank_nicolson_rollout(const crank_nicolson::Well& well, std::int64_t batch, std::int64_t steps,
                            const double* psi0, const double* u, double* trajectory,
                            crank_nicolson::Complex* scratch) {
  const crank_nicolson::Well w = well;
  const std::int64_t m = 2 * w.n, work = crank_nicolson::kScratchPerPoint * w.n;
  for_each("crank_nicolson_rollout", batch, [=] DPHYS_HOST_DEVICE(std::int64_t b) {
    crank_nicolson::rollout(w, psi0 + b * m, u + b * steps, steps, trajectory + b * (steps + 1) * m,
                            scratch + b * work);
  });
}

void crank_nicolson_adjoint(const crank_nicolson::Well& well, std::int64_t batch, std::int64_t steps,
                            const double* g, const double* trajectory, const double* u, double* packed,
                            crank_nicolson::Complex* scratch) {
  const crank_nicolson::Well w = well;
  const std::int64_t m = 2 * w.n, work = crank_nicolson::kScratchPerPoint * w.n;
  for_each("crank_nicolson_adjoint", batch, [=] DPHYS_HOST_DEVICE(std::int64_t b) {
    crank_nicolson::adjoint(w, g + b * (steps + 1) * m, trajectory + b * (steps + 1) * m, u + b * steps,
                            steps, packed + b * (m + steps), scratch + b * work);
  });
}

}  // namespace dphys::device_kernel
