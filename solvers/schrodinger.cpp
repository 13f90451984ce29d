#include "solvers/schrodinger.h"

#include <cmath>
#include <complex>
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/transforms.h"
#include "engine/parallel.h"

namespace dphys {

namespace {

using Complex = std::complex<double>;

// The discretised well on host f64 data. Every matrix here is I + i·σ·τ·H(u) with σ = ±1 and τ = Δt/2:
// σ = +1 is the implicit side A of a CN step, σ = −1 the explicit side B = Aᴴ.
struct Well {
  std::int64_t n;
  double dx, tau;

  double x(std::int64_t j) const { return static_cast<double>(j + 1) * dx; }
  Complex diagonal(double u, double sigma, std::int64_t j) const {
    return {1.0, sigma * tau * (2 / (dx * dx) + u * x(j))};
  }
  Complex off_diagonal(double sigma) const { return {0.0, -sigma * tau / (dx * dx)}; }

  // out = (I + iστH(u)) v.
  void apply(double u, double sigma, const Complex* v, Complex* out) const {
    const Complex off = off_diagonal(sigma);
    for (std::int64_t j = 0; j < n; ++j) {
      Complex neighbours = 0.0;
      if (j > 0) neighbours += v[j - 1];
      if (j + 1 < n) neighbours += v[j + 1];
      out[j] = diagonal(u, sigma, j) * v[j] + off * neighbours;
    }
  }

  // Solves (I + iστH(u)) y = r by the Thomas algorithm. No pivoting is needed: the Hermitian part of the
  // matrix is I, so is that of every leading block, which is therefore nonsingular: no pivot is zero.
  void solve(double u, double sigma, const Complex* r, Complex* y, Complex* scratch) const {
    const Complex off = off_diagonal(sigma);
    Complex pivot = diagonal(u, sigma, 0);
    scratch[0] = off / pivot;
    y[0] = r[0] / pivot;
    for (std::int64_t j = 1; j < n; ++j) {
      pivot = diagonal(u, sigma, j) - off * scratch[j - 1];
      scratch[j] = off / pivot;
      y[j] = (r[j] - off * y[j - 1]) / pivot;
    }
    for (std::int64_t j = n - 2; j >= 0; --j) y[j] -= scratch[j] * y[j + 1];
  }
};

Well make_well(const SchrodingerConfig& config) {
  DPHYS_CHECK(config.points >= 3 && config.length > 0 && config.dt > 0,
              "schrodinger: invalid configuration points={} length={} dt={}", config.points, config.length,
              config.dt);
  return {config.points - 2, config.length / static_cast<double>(config.points - 1), config.dt / 2};
}

// ψ of one example at one time, stored as [2, n] (Re, Im), to complex and back.
void load(const double* p, std::int64_t n, Complex* z) {
  for (std::int64_t j = 0; j < n; ++j) z[j] = {p[j], p[n + j]};
}
void store(const Complex* z, std::int64_t n, double* p) {
  for (std::int64_t j = 0; j < n; ++j) {
    p[j] = z[j].real();
    p[n + j] = z[j].imag();
  }
}

Tensor to_f64(const Tensor& x) { return x.dtype() == DType::f64 ? x : cast(x, DType::f64); }

// The reverse pass of the rollout as an op of its own, so that its result can sit on a recorded graph (a
// first derivative taken with create_graph); only differentiating it is refused. g and trajectory are
// [B, steps + 1, 2, n], controls [B, steps]; the result packs [ψ̄_0 (2n values), ū (steps values)] per row.
Tensor adjoint(const Tensor& g, const Tensor& trajectory, const Tensor& controls, const Well& well) {
  const std::int64_t batch = controls.shape()[0], steps = controls.shape()[1], n = well.n, m = 2 * n;
  const auto forward = [=](const std::vector<Tensor>& in) {
    const Tensor cotangent = to_f64(in[0]), states = to_f64(in[1]), u = to_f64(in[2]);
    Tensor out = Tensor::empty({batch, m + steps}, DType::f64);
    const double *g_in = cotangent.data<double>(), *s = states.data<double>(), *u_in = u.data<double>();
    double* result = out.data<double>();
    // The step is ψ_{k+1} = A⁻¹Bψ_k with A, B commuting and B = Aᴴ, so its adjoint is (A⁻¹B)ᴴ = AB⁻¹: with
    // μ = B⁻¹λ_{k+1}, λ_k = Aμ + g_k, and since ∂ψ_{k+1}/∂u_k = −iτA⁻¹X(ψ_k + ψ_{k+1}),
    // ū_k = Re⟨μ, −iτX(ψ_k + ψ_{k+1})⟩ = τ Σ_j x_j Im(conj(μ_j)(ψ_k + ψ_{k+1})_j).
    parallel_for(batch, steps * n * 60, [&](std::int64_t b) {
      std::vector<Complex> lambda(n), mu(n), scratch(n), now(n), next(n), g_k(n);
      const double* s_b = s + b * (steps + 1) * m;
      const double* g_b = g_in + b * (steps + 1) * m;
      double* row = result + b * (m + steps);
      load(g_b + steps * m, n, lambda.data());
      for (std::int64_t k = steps - 1; k >= 0; --k) {
        const double u_k = u_in[b * steps + k];
        load(s_b + k * m, n, now.data());
        load(s_b + (k + 1) * m, n, next.data());
        well.solve(u_k, -1.0, lambda.data(), mu.data(), scratch.data());
        double control = 0;
        for (std::int64_t j = 0; j < n; ++j)
          control += well.x(j) * std::imag(std::conj(mu[j]) * (now[j] + next[j]));
        row[m + k] = well.tau * control;
        well.apply(u_k, 1.0, mu.data(), lambda.data());
        load(g_b + k * m, n, g_k.data());
        for (std::int64_t j = 0; j < n; ++j) lambda[j] += g_k[j];
      }
      store(lambda.data(), n, row);
    });
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
  const std::int64_t batch = psi.shape()[0], steps = controls.shape()[1];
  const auto forward = [=](const std::vector<Tensor>& in) {
    const Tensor psi0 = to_f64(in[0]), u = to_f64(in[1]);
    Tensor out = Tensor::empty({batch, steps + 1, 2, n}, DType::f64);
    const double *p_in = psi0.data<double>(), *u_in = u.data<double>();
    double* trajectory = out.data<double>();
    parallel_for(batch, steps * n * 40, [&](std::int64_t b) {
      std::vector<Complex> psi_k(n), rhs(n), scratch(n);
      double* t_b = trajectory + b * (steps + 1) * m;
      load(p_in + b * m, n, psi_k.data());
      store(psi_k.data(), n, t_b);
      for (std::int64_t k = 0; k < steps; ++k) {
        const double u_k = u_in[b * steps + k];
        well.apply(u_k, -1.0, psi_k.data(), rhs.data());
        well.solve(u_k, 1.0, rhs.data(), psi_k.data(), scratch.data());
        store(psi_k.data(), n, t_b + (k + 1) * m);
      }
    });
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
