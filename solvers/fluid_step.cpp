#include "solvers/fluid_step.h"

#include <algorithm>
#include <cmath>

#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "solvers/fluid_viscosity.h"

namespace dphys {

namespace {

// Mean of v² over all face samples, per example: [B, 1, 1].
Tensor kinetic_energy(const StaggeredField& v) {
  const double count =
      static_cast<double>(v.x_faces.numel() + v.y_faces.numel()) / static_cast<double>(v.x_faces.shape()[0]);
  return (sum(square(v.x_faces), {1, 2}, true) + sum(square(v.y_faces), {1, 2}, true)) / count;
}

StaggeredField renormalize(const StaggeredField& v, const Tensor& previous_energy) {
  const Tensor energy = kinetic_energy(v);
  // A motionless example keeps factor 1; both operands are guarded so no branch divides by zero.
  const Tensor moving = gt(energy, zeros_like(energy));
  const Tensor factor =
      sqrt(where(moving, previous_energy, ones_like(energy)) / where(moving, energy, ones_like(energy)));
  return {v.x_faces * factor, v.y_faces * factor};
}

// The state as one [B, N] tensor (checkpoint's functions return one tensor) and back.
Tensor pack(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flat;
  for (const Tensor& t : parts) flat.push_back(reshape(t, {t.shape()[0], -1}));
  return concat(flat, 1);
}

std::vector<Tensor> unpack(const Tensor& packed, const std::vector<Shape>& shapes) {
  std::vector<Tensor> parts;
  std::int64_t offset = 0;
  for (const Shape& shape : shapes) {
    const std::int64_t n = shape_numel(shape) / shape[0];
    parts.push_back(reshape(slice(packed, 1, offset, offset + n), shape));
    offset += n;
  }
  return parts;
}

std::vector<Tensor> state_parts(const FluidState& s) {
  std::vector<Tensor> parts{s.velocity.x_faces, s.velocity.y_faces};
  if (s.marker.defined()) parts.push_back(s.marker);
  if (s.pressure.defined()) parts.push_back(s.pressure);
  return parts;
}

FluidState from_parts(const std::vector<Tensor>& parts, bool has_marker, bool has_pressure) {
  FluidState s{{parts[0], parts[1]}, Tensor(), Tensor()};
  if (has_marker) s.marker = parts[2];
  if (has_pressure) s.pressure = parts[has_marker ? 3 : 2].detach();
  return s;
}

// `steps` steps as one checkpointed op.
FluidState checkpointed_steps(const FluidState& state, const FluidSetup& setup, int steps) {
  const bool has_marker = state.marker.defined(), has_pressure = state.pressure.defined();
  const auto run = [setup, steps, has_marker, has_pressure](const std::vector<Tensor>& in) {
    FluidState s = from_parts(in, has_marker, has_pressure);
    for (int i = 0; i < steps; ++i) s = fluid_step(s, setup);
    return pack(state_parts(s));
  };
  const Tensor packed = checkpoint(run, state_parts(state));
  const std::int64_t batch = state.velocity.x_faces.shape()[0];
  std::vector<Shape> shapes{state.velocity.x_faces.shape(), state.velocity.y_faces.shape()};
  if (has_marker) shapes.push_back(state.marker.shape());
  shapes.push_back(setup.grid.centered_shape(batch));  // the pressure, defined after any step
  return from_parts(unpack(packed, shapes), has_marker, true);
}

}  // namespace

FluidState fluid_step(const FluidState& state, const FluidSetup& setup) {
  const Grid2D& grid = setup.grid;
  grid.validate("fluid_step");
  DPHYS_CHECK(setup.dt > 0 && std::isfinite(setup.dt), "fluid_step: dt must be positive and finite, got {}",
              setup.dt);
  const FluidMasks masks =
      setup.masks.fluid.defined()
          ? setup.masks
          : fluid_masks(grid, Tensor(), state.velocity.x_faces.dtype(), state.velocity.x_faces.device());
  StaggeredField v = apply_masks(state.velocity, masks);
  const Tensor energy = setup.renormalize_energy ? kinetic_energy(v) : Tensor();
  v = advect(v, v, grid, setup.dt, setup.advection);
  if (setup.viscosity > 0) {
    v = setup.viscous_step == ViscousStep::explicit_euler
            ? diffuse_explicit(v, grid, masks, setup.viscosity, setup.dt)
            : diffuse_implicit(v, grid, masks, setup.viscosity, setup.dt, setup.viscous_solve);
  }
  Projection projected = make_incompressible(v, grid, masks, setup.pressure_solve, state.pressure);
  if (setup.renormalize_energy) projected.velocity = renormalize(projected.velocity, energy);
  FluidState next{projected.velocity, Tensor(), projected.pressure};
  if (state.marker.defined())
    next.marker = advect(state.marker, Staggering::centered, next.velocity, grid, setup.dt, setup.advection);
  return next;
}

FluidState fluid_rollout(const FluidState& state, const FluidSetup& setup, int steps, int checkpoint_every) {
  DPHYS_CHECK(steps >= 0 && checkpoint_every >= 0,
              "fluid_rollout: needs steps ≥ 0 and checkpoint_every ≥ 0, got {} and {}", steps,
              checkpoint_every);
  FluidState s = state;
  if (checkpoint_every == 0) {
    for (int i = 0; i < steps; ++i) s = fluid_step(s, setup);
    return s;
  }
  for (int done = 0; done < steps; done += checkpoint_every)
    s = checkpointed_steps(s, setup, std::min(checkpoint_every, steps - done));
  return s;
}

}  // namespace dphys
