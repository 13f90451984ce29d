#pragma once
// Device kernels of the solvers that integrate each example on its own (one thread per example): the
// oscillator chain's RK4 (oscillator_chain.h) and the dipole's Crank–Nicolson (crank_nicolson_well.h), and
// their adjoints. Plain pointers only, for nvcc; the callers in oscillators.cpp and schrodinger.cpp allocate
// the f64 arrays on the device, scratch included (per example: the headers' scratch sizes).
#include <cstdint>

#include "solvers/crank_nicolson_well.h"
#include "solvers/oscillator_chain.h"

namespace dphys::device_kernel {

void oscillator_rollout(const oscillator_chain::Chain& chain, std::int64_t batch, std::int64_t steps,
                        const double* s0, const double* u, double* trajectory, double* scratch);
void oscillator_adjoint(const oscillator_chain::Chain& chain, std::int64_t batch, std::int64_t steps,
                        const double* trajectory, const double* u, const double* g, double* s_bar,
                        double* u_bar, double* scratch);

void crank_nicolson_rollout(const crank_nicolson::Well& well, std::int64_t batch, std::int64_t steps,
                            const double* psi0, const double* u, double* trajectory,
                            crank_nicolson::Complex* scratch);
void crank_nicolson_adjoint(const crank_nicolson::Well& well, std::int64_t batch, std::int64_t steps,
                            const double* g, const double* trajectory, const double* u, double* packed,
                            crank_nicolson::Complex* scratch);

}  // namespace dphys::device_kernel
