#pragma once
// Incompressible Navier–Stokes on the MAC grid, batched and differentiable: one step is advection →
// (viscosity) → pressure projection → (energy renormalisation) → marker advection, as in sip.md §2.6.2
// and jpo.md §9.2.
#include "solvers/fluid_advection.h"
#include "solvers/fluid_masks.h"
#include "solvers/fluid_projection.h"

namespace dphys {

enum class ViscousStep { explicit_euler, implicit_euler };

struct FluidSetup {
  Grid2D grid;
  // fluid_masks(grid, obstacles); undefined means no obstacles.
  FluidMasks masks;
  double dt = 1.0;
  AdvectionOptions advection;  // for the velocity and the marker
  double viscosity = 0.0;      // ν; 0 skips the viscous step
  ViscousStep viscous_step = ViscousStep::explicit_euler;
  // jpo.md §9.2: relative 1e-5, at most 2000 iterations. Strict, so that an unconverged solve raises
  // instead of returning a velocity that is not divergence-free.
  CgOptions pressure_solve{1e-5, 1e-12, 2000, false, true};
  CgOptions viscous_solve{1e-10, 1e-14, 2000, false, true};
  // sip.md §2.6.2 step 4: rescale each step's velocity to the previous step's mean v² (neither advection
  // nor projection conserves energy).
  bool renormalize_energy = false;
};

struct FluidState {
  StaggeredField velocity;
  Tensor marker;  // [B, ny, nx] passive marker at cell centres; optional
  // The last pressure, warm start of the next solve (no gradient history); undefined before the first step.
  Tensor pressure;
};

// One step. The incoming velocity is masked first (closed faces carry no flow), the velocity is
// self-advected with the options' scheme, and the marker is advected by the new, projected velocity
// (sip.md §2.6.2 step 5).
FluidState fluid_step(const FluidState& state, const FluidSetup& setup);

// `steps` steps. With checkpoint_every = k > 0 every k steps run inside `checkpoint` (autodiff/
// transforms.h): the tape keeps only the states between segments and recomputes a segment during the
// backward pass, so a rollout's gradient needs memory for k steps instead of all of them; the gradient is
// the same up to round-off.
FluidState fluid_rollout(const FluidState& state, const FluidSetup& setup, int steps,
                         int checkpoint_every = 0);

}  // namespace dphys
