#include "solvers/schrodinger.h"

#include <cmath>

#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/device_dispatch.h"
#include "engine/parallel.h"
#include "solvers/per_example_device.h"

namespace dphys {

namespace {

using crank_nicolson::Well;

Well make_well(const SchrodingerConfig& config) {
  DPHYS_CHECK(config.points >= 3 && config.length > 0 && std::isfinite(config.length) && config.dt > 0 &&
                  std::isfinite(config.dt),
              "schrodinger: invalid configuration points={} length={} dt={}", config.points, config.length,
              config.dt);
  return {config.points - 2, config.length / static_cast<double>(config.points - 1), config.dt / 2};
}

// Complex scratch for every example of the batch, on `device`.
Tensor complex_scratch(std::int64_t batch, std::int64_t n, Device device) {
  return Tensor::empty({batch, 2 * crank_nicolson::kScratchPerPoint * n}, DType::f64, device);
}
crank_nicolson::Complex* complex_data(const Tensor& scratch) {
  return reinterpret_cast<crank_nicolson::Complex*>(device_data<double>(scratch));
}

Tensor to_f64(const Tensor& x) { return x.dtype() == DType::f64 ? x : cast(x, DType::f64); }

// The reverse pass of the rollout as an op of its own, so that its result can sit on a recorded graph (a
// first derivative taken with create_graph); only differentiating it is refused. g and trajectory are
// [B, steps + 1, 2, n], controls [B, steps]; the result packs [ψ̄_0 (2n values), ū (steps values)] per row.
Tensor adjoint(const Tensor& g, const Tensor& trajectory, const Tensor& controls, const Well& well) {
  const std::int64_t batch = controls.shape()[0], steps = controls.shape()[1], n = well.n, m = 2 * n;
  const auto forward = [=](const std::vector<Tensor>& in) {
    const Device device = in[1].device();
    const Tensor cotangent = to_f64(in[0]), states = to_f64(in[1]), u = to_f64(in[2]);
    const Tensor scratch = complex_scratch(batch, n, device);
    Tensor out = Tensor::empty({batch, m + steps}, DType::f64, device);
    const double *g_in = device_data<double>(cotangent), *s = device_data<double>(states),
                 *u_in = device_data<double>(u);
    double* result = device_data<double>(out);
    crank_nicolson::Complex* work = complex_data(scratch);
    if (device.is_cpu()) {
      parallel_for(batch, steps * n * 60, [&](std::int64_t b) {
        crank_nicolson::adjoint(well, g_in + b * (steps + 1) * m, s + b * (steps + 1) * m, u_in + b * steps,
                                steps, result + b * (m + steps),
                                work + b * crank_nicolson::kScratchPerPoint * n);
      });
    } else {
      device_kernel::crank_nicolson_adjoint(well, batch, steps, g_in, s, u_in, result, work);
    }
    return out;
  };
  const auto backward = [](const Tensor&, const std::vector<Tensor>&, const Tensor&) -> std::vector<Tensor> {
    fail(
        "schrodinger_trajectory: its gradient is first-order only; differentiating it again (grad of grad, "
        "jvp, hvp) is not supported");
  };
  return custom_op("schrodinger_adjoint", {g, trajectory, controls}, forward, backward);
}

}  // namespace

Tensor schrodinger_trajectory(const Tensor& psi, const Tensor& controls, const SchrodingerConfig& config) {
  const Well well = make_well(config);
  const std::int64_t n = well.n, m = 2 * n;
  DPHYS_CHECK(psi.dim() == 3 && psi.shape()[1] == 2 && psi.shape()[2] == n,
              "schrodinger_trajectory: psi must be [B, 2, {}] (Re, Im of the interior points), got {}", n,
              shape_str(psi.shape()));
  DPHYS_CHECK(psi.dtype() == DType::f32 || psi.dtype() == DType::f64,
              "schrodinger_trajectory: psi must be f32 or f64 (Re and Im as channels), got {}",
              dtype_name(psi.dtype()));
  DPHYS_CHECK(controls.dim() == 2 && controls.shape()[0] == psi.shape()[0] && controls.shape()[1] >= 1,
              "schrodinger_trajectory: controls must be [B, steps ≥ 1] for psi of shape {}, got {}",
              shape_str(psi.shape()), shape_str(controls.shape()));
  DPHYS_CHECK(controls.dtype() == psi.dtype(), "schrodinger_trajectory: controls are {} but psi is {}",
              dtype_name(controls.dtype()), dtype_name(psi.dtype()));
  DPHYS_CHECK(controls.device() == psi.device(),
              "schrodinger_trajectory: controls are on {} but psi is on {}", controls.device().str(),
              psi.device().str());
  const std::int64_t batch = psi.shape()[0], steps = controls.shape()[1];
  const auto forward = [=](const std::vector<Tensor>& in) {
    const Device device = in[0].device();
    const Tensor psi0 = to_f64(in[0]), u = to_f64(in[1]);
    const Tensor scratch = complex_scratch(batch, n, device);
    Tensor out = Tensor::empty({batch, steps + 1, 2, n}, DType::f64, device);
    const double *p_in = device_data<double>(psi0), *u_in = device_data<double>(u);
    double* trajectory = device_data<double>(out);
    crank_nicolson::Complex* work = complex_data(scratch);
    if (device.is_cpu()) {
      parallel_for(batch, steps * n * 40, [&](std::int64_t b) {
        crank_nicolson::rollout(well, p_in + b * m, u_in + b * steps, steps, trajectory + b * (steps + 1) * m,
                                work + b * crank_nicolson::kScratchPerPoint * n);
      });
    } else {
      device_kernel::crank_nicolson_rollout(well, batch, steps, p_in, u_in, trajectory, work);
    }
    return in[0].dtype() == DType::f64 ? out : cast(out, in[0].dtype());
  };
  const auto backward = [=](const Tensor& g, const std::vector<Tensor>& in, const Tensor& out) {
    const Tensor packed = adjoint(g, out, in[1], well);
    return std::vector<Tensor>{cast(reshape(slice(packed, 1, 0, m), {batch, 2, n}), in[0].dtype()),
                               cast(slice(packed, 1, m, m + steps), in[1].dtype())};
  };
  return custom_op("schrodinger_trajectory", {psi, controls}, forward, backward);
}

Tensor schrodinger_rollout(const Tensor& psi, const Tensor& controls, const SchrodingerConfig& config) {
  const Tensor trajectory = schrodinger_trajectory(psi, controls, config);
  return squeeze(slice(trajectory, 1, -1, trajectory.shape()[1]), 1);
}

Tensor square_well_eigenstate(int level, const SchrodingerConfig& config, DType dtype) {
  const Well well = make_well(config);
  DPHYS_CHECK(level >= 1 && level <= well.n, "square_well_eigenstate: level {} outside 1..{}", level, well.n);
  const Tensor j = arange(1, static_cast<double>(well.n) + 1, 1, DType::f64);
  const Tensor phi = sin(j * (M_PI * level / static_cast<double>(config.points - 1)));
  const Tensor normalised = phi / sqrt(sum(square(phi)));
  return cast(stack({normalised, zeros_like(normalised)}, 0), dtype);
}

}  // namespace dphys
