// Incompressible Navier–Stokes on the MAC grid: sampling, advection, projection, viscosity, rollouts.
#include <cmath>
#include <set>

#include "autodiff/node.h"

#include "solvers/fluid_step.h"
#include "solvers/fluid_viscosity.h"
#include "solvers/stencils.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

Grid2D square_grid(std::int64_t n, double length, Boundary boundary) {
  Grid2D grid;
  grid.ny = grid.nx = n;
  grid.length_y = grid.length_x = length;
  grid.boundary = boundary;
  return grid;
}

StaggeredField random_velocity(const Grid2D& grid, std::int64_t batch, double scale, Generator& gen) {
  return {normal(grid.x_face_shape(batch), 0, scale, gen, DType::f64),
          normal(grid.y_face_shape(batch), 0, scale, gen, DType::f64)};
}

const char* boundary_name(Boundary boundary) {
  switch (boundary) {
    case Boundary::periodic:
      return "periodic";
    case Boundary::neumann:
      return "closed";
    case Boundary::dirichlet:
      return "open";
  }
  return "";
}

// Nodes on the tape behind a tensor: what its backward pass keeps alive.
std::size_t tape_size(const Tensor& x) {
  std::vector<const Node*> stack{x.node().get()};
  std::set<const Node*> seen;
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    for (const auto& input : node->inputs) stack.push_back(input.get());
  }
  return seen.size();
}

double l2(const Tensor& x) { return std::sqrt(sum(square(x)).item()); }

// Centre of mass of a centred field, per axis, in physical units (example 0).
std::pair<double, double> centroid(const Tensor& m, const Grid2D& grid) {
  const Tensor mass = sum(m);
  return {(sum(m * grid.cell_y()) / mass).item(), (sum(m * grid.cell_x()) / mass).item()};
}

}  // namespace

TEST_CASE("bilinear sampling reproduces linear fields, wraps on periodic grids and clamps on closed ones") {
  Generator gen(1);
  const Grid2D closed = square_grid(6, 3.0, Boundary::neumann);
  const auto [cy, cx] = sample_points(closed, Staggering::centered, DType::f64);
  const Tensor field = 2.0 * cy - 3.0 * cx + 1.0;
  // Points strictly inside the cell-centre hull [0.25, 2.75]²: exact.
  const Tensor y = uniform({1, 5, 7}, 0.25, 2.75, gen, DType::f64),
               x = uniform({1, 5, 7}, 0.25, 2.75, gen, DType::f64);
  const Tensor inside = interpolate(field, linear_stencil(closed, Staggering::centered, y, x, 1));
  CHECK(max_abs_diff(inside, 2.0 * y - 3.0 * x + 1.0) < 1e-13);
  // Beyond the walls the position is clamped to the nearest sample.
  const Tensor outside =
      interpolate(field, linear_stencil(closed, Staggering::centered, y - 10.0, x + 10.0, 1));
  CHECK(max_abs_diff(outside, 2.0 * 0.25 - 3.0 * 2.75 + 1.0 + 0.0 * y) < 1e-13);
  // A periodic grid wraps by its length.
  const Grid2D periodic = square_grid(6, 3.0, Boundary::periodic);
  const Tensor waves = sin(2 * M_PI * cy / 3.0) * cos(2 * M_PI * cx / 3.0);
  const LinearStencil here = linear_stencil(periodic, Staggering::centered, y, x, 1);
  const LinearStencil shifted = linear_stencil(periodic, Staggering::centered, y + 6.0, x - 3.0, 1);
  CHECK(max_abs_diff(interpolate(waves, here), interpolate(waves, shifted)) < 1e-13);
}

TEST_CASE("the fused advection equals the op-by-op one in value and gradient, on every grid and scheme") {
  // Velocities of a few cells per step, so traces cross cells, wrap or leave the grid; a 5×7 grid so that
  // the two axes cannot be confused.
  Generator gen(11);
  for (const Boundary boundary : {Boundary::periodic, Boundary::neumann, Boundary::dirichlet}) {
    Grid2D grid = square_grid(5, 5.0, boundary);
    grid.nx = 7;
    grid.length_x = 10.5;
    grid.x0 = -1.0;
    for (const AdvectionScheme scheme : {AdvectionScheme::semi_lagrangian, AdvectionScheme::mac_cormack}) {
      for (const BackTrace trace : {BackTrace::euler, BackTrace::rk2}) {
        for (const Staggering staggering : {Staggering::centered, Staggering::x_faces, Staggering::y_faces}) {
          const AdvectionOptions options{scheme, trace};
          const StaggeredField v = random_velocity(grid, 3, 2.0, gen);
          const Tensor q = normal(staggered_shape(grid, staggering, 3), 0, 1, gen, DType::f64);
          const Tensor cotangent = normal(q.shape(), 0, 1, gen, DType::f64);
          const auto run = [&](bool fused) {
            return [&, fused](const std::vector<Tensor>& in) {
              const StaggeredField velocity{in[1], in[2]};
              return fused ? advect(in[0], staggering, velocity, grid, 0.7, options)
                           : advect_composed(in[0], staggering, velocity, grid, 0.7, options);
            };
          };
          const std::vector<Tensor> inputs{q, v.x_faces, v.y_faces};
          const auto [value, grads] = vjp(run(true), inputs, cotangent);
          const auto [reference, reference_grads] = vjp(run(false), inputs, cotangent);
          const std::string where = std::string(boundary_name(boundary)) + ", scheme " +
                                    std::to_string(static_cast<int>(scheme)) + ", trace " +
                                    std::to_string(static_cast<int>(trace)) + ", staggering " +
                                    std::to_string(static_cast<int>(staggering));
          INFO(where);
          CHECK(max_abs_diff(value, reference) < 1e-13);
          for (std::size_t i = 0; i < inputs.size(); ++i) {
            INFO("input " << i);
            CHECK(max_abs_diff(grads[i], reference_grads[i]) < 1e-12 * (1 + max_abs(reference_grads[i])));
          }
          // f32 runs the same kernel on float storage.
          const Tensor single =
              advect(cast(q, DType::f32), staggering,
                     {cast(v.x_faces, DType::f32), cast(v.y_faces, DType::f32)}, grid, 0.7, options);
          CHECK(single.dtype() == DType::f32);
          CHECK(max_abs_diff(cast(single, DType::f64), reference) < 1e-5 * (1 + max_abs(reference)));
        }
      }
    }
  }
}

TEST_CASE("advect refuses a dt that is not positive and finite") {
  // dt = -0.1 advected backwards and dt = 0 returned the input, silently.
  Generator gen(13);
  const Grid2D grid = square_grid(6, 6.0, Boundary::neumann);
  const StaggeredField v = random_velocity(grid, 1, 1.0, gen);
  const Tensor q = normal({1, 6, 6}, 0, 1, gen, DType::f64);
  for (const double dt : {0.0, -0.1, double(NAN), double(INFINITY)}) {
    CAPTURE(dt);
    CHECK(contains(error_message([&] { advect(q, Staggering::centered, v, grid, dt); }),
                   "advect: dt must be positive and finite"));
  }
}

TEST_CASE("the fused advection: finite differences, second derivatives, and an error for a blown-up flow") {
  Generator gen(12);
  const Grid2D grid = square_grid(6, 6.0, Boundary::neumann);
  const StaggeredField v = random_velocity(grid, 2, 1.5, gen);
  const Tensor q = normal({2, 6, 6}, 0, 1, gen, DType::f64);
  const Tensor w = normal({2, 6, 6}, 0, 1, gen, DType::f64);
  for (const AdvectionOptions options : {AdvectionOptions{AdvectionScheme::semi_lagrangian, BackTrace::rk2},
                                         AdvectionOptions{AdvectionScheme::mac_cormack, BackTrace::euler}}) {
    const Function loss = [&](const std::vector<Tensor>& in) {
      return sum(w * square(advect(in[0], Staggering::centered, {in[1], in[2]}, grid, 0.5, options)));
    };
    const std::vector<Tensor> inputs{q, v.x_faces, v.y_faces};
    const std::vector<Tensor> grads = grad(loss, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Tensor fd = finite_difference_gradient(loss, inputs, i);
      const double error = max_abs_diff(grads[i], fd) / max_abs(fd);
      MESSAGE("scheme " << static_cast<int>(options.scheme) << ", input " << i << ": relative error "
                        << error);
      CHECK(error < 1e-6);
    }
  }
  // Grad of grad runs through advect_composed: an HVP in q equals the op-by-op one.
  const UnaryFunction fused = [&](const Tensor& x) {
    return sum(w * square(advect(x, Staggering::centered, v, grid, 0.5)));
  };
  const UnaryFunction composed = [&](const Tensor& x) {
    return sum(w * square(advect_composed(x, Staggering::centered, v, grid, 0.5)));
  };
  const Tensor direction = normal(q.shape(), 0, 1, gen, DType::f64);
  const Tensor reference = hvp(composed, q, direction);
  CHECK(max_abs(reference) > 0.1);
  CHECK(max_abs_diff(hvp(fused, q, direction), reference) < 1e-12);
  // A NaN velocity is named, not silently sampled.
  Tensor broken = v.x_faces.clone();
  broken.data<double>()[5] = std::nan("");
  CHECK(contains(error_message([&] {
                   advect(q, Staggering::centered, {broken, v.y_faces}, grid, 0.5);
                 }),
                 "did the velocity blow up?"));
}

TEST_CASE("projection: divergence below the CG tolerance, zero flow through walls and obstacles") {
  Generator gen(2);
  for (Boundary boundary : {Boundary::periodic, Boundary::neumann, Boundary::dirichlet}) {
    for (bool obstacles : {false, true}) {
      CAPTURE(boundary_name(boundary));
      CAPTURE(obstacles);
      const Grid2D grid = square_grid(32, 50.0, boundary);
      const Tensor solid =
          obstacles ? disc_obstacles(grid, {{12.5, 17.5}, {25.0, 20.0}, {37.5, 17.5}}, 6.0) : Tensor();
      const FluidMasks masks = fluid_masks(grid, solid);
      const StaggeredField v = random_velocity(grid, 2, 1.0, gen);
      CgOptions options;
      options.rel_tol = 1e-8;
      options.strict = true;
      CgResult info;
      const Projection p = make_incompressible(v, grid, masks, options, Tensor(), &info);
      const Tensor before = staggered_divergence(apply_masks(v, masks), grid);
      const Tensor after = staggered_divergence(p.velocity, grid);
      for (std::int64_t b = 0; b < 2; ++b) {
        const double ratio = l2(slice(after, 0, b, b + 1)) / l2(slice(before, 0, b, b + 1));
        MESSAGE(std::string(boundary_name(boundary)) << std::string(obstacles ? " with" : " without")
                                                     << " obstacles: |div| / |div before| = " << ratio
                                                     << " after " << info.iterations[b] << " CG iterations");
        CHECK(ratio < 1e-8);
      }
      // Closed faces carry exactly nothing.
      CHECK(max_abs(p.velocity.x_faces * (1.0 - masks.open.x_faces)) == 0.0);
      CHECK(max_abs(p.velocity.y_faces * (1.0 - masks.open.y_faces)) == 0.0);
      // Projecting again changes the velocity only at the tolerance; warm-started from its own pressure
      // the first solve needs no iterations.
      const Projection twice = make_incompressible(p.velocity, grid, masks, options);
      CHECK(max_abs_diff(twice.velocity.x_faces, p.velocity.x_faces) < 1e-6);
      CgResult warm;
      make_incompressible(v, grid, masks, options, p.pressure, &warm);
      CHECK(warm.iterations[0] == 0);
    }
  }
}

TEST_CASE("Taylor–Green vortex decays at the viscous rate e^{-2νt}, converging at second order in space") {
  // u_x = sin x cos y, u_y = −cos x sin y on [0, 2π)²: discretely divergence-free on the MAC grid, and its
  // advection is balanced by the pressure, so only viscosity changes it: u(t) = u(0)·e^{−2νt}. The
  // advect–project split is first order in time, so the spatial order is measured at one fixed dt by
  // self-convergence of the decay rate over 16², 32², 64² (two refinements).
  const double nu = 0.1, dt = 0.025;
  const int steps = 40;
  std::vector<double> rates;
  for (std::int64_t n : {16, 32, 64}) {
    FluidSetup setup;
    setup.grid = square_grid(n, 2 * M_PI, Boundary::periodic);
    setup.dt = dt;
    setup.viscosity = nu;
    setup.viscous_step = ViscousStep::implicit_euler;
    setup.advection.scheme = AdvectionScheme::mac_cormack;
    setup.pressure_solve.rel_tol = 1e-10;
    const auto [xy, xx] = sample_points(setup.grid, Staggering::x_faces, DType::f64);
    const auto [yy, yx] = sample_points(setup.grid, Staggering::y_faces, DType::f64);
    const Tensor mode = sin(xx) * cos(xy);
    FluidState state{{mode, -cos(yx) * sin(yy)}, Tensor(), Tensor()};
    state = fluid_rollout(state, setup, steps);
    // The amplitude of the Taylor–Green mode in the result (least squares on the x-faces).
    const double amplitude = sum(state.velocity.x_faces * mode).item() / sum(square(mode)).item();
    const double error = max_abs_diff(state.velocity.x_faces, amplitude * mode);
    rates.push_back(-std::log(amplitude) / (steps * dt));
    MESSAGE(n << "x" << n << ": decay rate " << rates.back() << " (analytic " << 2 * nu
              << "), deviation from the mode " << error);
    CHECK(error < 1e-2 * amplitude);
  }
  CHECK(rates.back() == doctest::Approx(2 * nu).epsilon(0.03));
  const double order = std::log2((rates[0] - rates[1]) / (rates[1] - rates[2]));
  MESSAGE("spatial order of the decay rate " << order);
  CHECK(order == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("a blob carried by a uniform flow lands where the flow takes it, for every scheme") {
  const Grid2D grid = square_grid(32, 32.0, Boundary::periodic);
  const double vy = 0.3, vx = 0.7;
  const int steps = 10;
  for (const AdvectionOptions options : {AdvectionOptions{AdvectionScheme::semi_lagrangian, BackTrace::euler},
                                         AdvectionOptions{AdvectionScheme::semi_lagrangian, BackTrace::rk2},
                                         AdvectionOptions{AdvectionScheme::mac_cormack, BackTrace::euler}}) {
    FluidSetup setup;
    setup.grid = grid;
    setup.advection = options;
    // σ = 2 cells, at least 10 cells from every edge throughout: no mass wraps around.
    const Tensor blob =
        unsqueeze(exp(-(square(grid.cell_y() - 12.0) + square(grid.cell_x() - 10.0)) / (2 * 2.0 * 2.0)), 0);
    FluidState state{{full(grid.x_face_shape(1), vx, DType::f64), full(grid.y_face_shape(1), vy, DType::f64)},
                     blob,
                     Tensor()};
    state = fluid_rollout(state, setup, steps);
    const auto [y, x] = centroid(state.marker, grid);
    const double error = std::hypot(y - (12.0 + steps * vy), x - (10.0 + steps * vx));
    MESSAGE("scheme " << static_cast<int>(options.scheme) << ", trace " << static_cast<int>(options.trace)
                      << ": centroid error " << error << " cells, peak " << max_abs(state.marker));
    // Linear interpolation moves the centroid exactly with a uniform flow, and so does the MacCormack
    // correction; its limiter does not (it clips over- and undershoots unevenly).
    CHECK(error < (options.scheme == AdvectionScheme::mac_cormack ? 0.1 : 1e-5));
    // The uniform flow is divergence-free: the projection leaves it alone.
    CHECK(max_abs_diff(state.velocity.x_faces, full(grid.x_face_shape(1), vx, DType::f64)) < 1e-12);
  }
}

TEST_CASE("rollout gradients match central finite differences for every scheme, with an obstacle") {
  // 8×8 cells of size 1, two obstacle cells, 3 steps of dt = 0.5, f64, tight CG tolerances.
  Generator gen(3);
  struct Case {
    Boundary boundary;
    AdvectionOptions advection;
    double viscosity;
    ViscousStep viscous_step;
    bool renormalize_energy;
    double tolerance;  // MacCormack's limiter is a kink: jpo.md allows 1e-3 there
  };
  for (const Case& c : {Case{Boundary::neumann,
                             {AdvectionScheme::semi_lagrangian, BackTrace::euler},
                             0.05,
                             ViscousStep::explicit_euler,
                             false,
                             1e-6},
                        Case{Boundary::neumann,
                             {AdvectionScheme::semi_lagrangian, BackTrace::rk2},
                             0.05,
                             ViscousStep::implicit_euler,
                             false,
                             1e-6},
                        Case{Boundary::neumann,
                             {AdvectionScheme::mac_cormack, BackTrace::euler},
                             0.0,
                             ViscousStep::explicit_euler,
                             false,
                             1e-3},
                        Case{Boundary::periodic,
                             {AdvectionScheme::mac_cormack, BackTrace::rk2},
                             0.0,
                             ViscousStep::explicit_euler,
                             true,
                             1e-3}}) {
    const Grid2D grid = square_grid(8, 8.0, c.boundary);
    Tensor solid = zeros({1, 8, 8}, DType::f64);
    solid.data<double>()[3 * 8 + 4] = 1.0;
    solid.data<double>()[4 * 8 + 4] = 1.0;
    FluidSetup setup;
    setup.grid = grid;
    setup.masks = fluid_masks(grid, solid);
    setup.dt = 0.5;
    setup.advection = c.advection;
    setup.viscosity = c.viscosity;
    setup.viscous_step = c.viscous_step;
    setup.renormalize_energy = c.renormalize_energy;
    setup.pressure_solve.rel_tol = 1e-13;
    setup.pressure_solve.abs_tol = 1e-15;
    setup.viscous_solve.rel_tol = 1e-13;
    const StaggeredField v0 = random_velocity(grid, 1, 0.5, gen);
    const Tensor m0 = uniform({1, 8, 8}, 0.0, 1.0, gen, DType::f64);
    const Tensor wx = normal(grid.x_face_shape(1), 0, 1, gen, DType::f64);
    const Tensor wy = normal(grid.y_face_shape(1), 0, 1, gen, DType::f64);
    const Tensor wm = normal({1, 8, 8}, 0, 1, gen, DType::f64);
    const Function loss = [&](const std::vector<Tensor>& in) {
      const FluidState end = fluid_rollout({{in[0], in[1]}, in[2], Tensor()}, setup, 3);
      return sum(wx * end.velocity.x_faces) + sum(wy * end.velocity.y_faces) + sum(wm * end.marker);
    };
    const std::vector<Tensor> inputs{v0.x_faces, v0.y_faces, m0};
    const std::vector<Tensor> grads = grad(loss, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Tensor fd = finite_difference_gradient(loss, inputs, i);
      const double error = max_abs_diff(grads[i], fd) / max_abs(fd);
      MESSAGE(std::string(boundary_name(c.boundary))
              << ", scheme " << static_cast<int>(c.advection.scheme) << ", trace "
              << static_cast<int>(c.advection.trace) << ", input " << i << ": relative error " << error
              << " (|fd|max " << max_abs(fd) << ")");
      CHECK(error < c.tolerance);
    }
  }
}

TEST_CASE("checkpointed and plain rollouts give the same gradient") {
  Generator gen(4);
  FluidSetup setup;
  setup.grid = square_grid(16, 32.0, Boundary::periodic);
  setup.dt = 0.25;
  setup.advection.scheme = AdvectionScheme::mac_cormack;
  setup.renormalize_energy = true;
  setup.pressure_solve.rel_tol = 1e-10;
  const StaggeredField v0 = random_velocity(setup.grid, 2, 2.0, gen);
  const Tensor m0 = uniform({2, 16, 16}, 0.0, 1.0, gen, DType::f64);
  const Tensor target = uniform({2, 16, 16}, 0.0, 1.0, gen, DType::f64);
  const auto loss_with = [&](int every) {
    return [&, every](const std::vector<Tensor>& in) {
      const FluidState end = fluid_rollout({{in[0], in[1]}, in[2], Tensor()}, setup, 8, every);
      return sum(square(end.marker - target)) + sum(square(end.velocity.y_faces));
    };
  };
  const std::vector<Tensor> inputs{v0.x_faces, v0.y_faces, m0};
  const auto [plain_value, plain] = value_and_grad(loss_with(0), inputs);
  for (int every : {3, 4}) {
    const auto [value, checkpointed] = value_and_grad(loss_with(every), inputs);
    CHECK(value.item() == doctest::Approx(plain_value.item()).epsilon(1e-14));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const double error = max_abs_diff(checkpointed[i], plain[i]) / max_abs(plain[i]);
      MESSAGE("checkpoint every " << every << ", input " << i << ": relative difference " << error);
      CHECK(error < 1e-12);
    }
  }
  // The tape behind the final state: every recorded op of 8 steps, or one node per 4-step segment.
  FluidState start{{v0.x_faces.clone().requires_grad_(), v0.y_faces.clone().requires_grad_()}, m0, Tensor()};
  const std::size_t plain_tape = tape_size(fluid_rollout(start, setup, 8).marker);
  const std::size_t segment_tape = tape_size(fluid_rollout(start, setup, 8, 4).marker);
  MESSAGE("tape nodes behind the marker: " << plain_tape << " plain, " << segment_tape << " checkpointed");
  CHECK(segment_tape * 20 < plain_tape);
}

TEST_CASE("the jpo.md §9 setup: closed 100 × 100 box, three discs, MacCormack, stays divergence-free") {
  Generator gen(5);
  FluidSetup setup;
  setup.grid = square_grid(64, 100.0, Boundary::neumann);
  setup.masks = fluid_masks(setup.grid, disc_obstacles(setup.grid, {{35, 25}, {40, 50}, {35, 75}}, 6.0));
  setup.dt = 1.0;
  setup.advection.scheme = AdvectionScheme::mac_cormack;
  FluidState state{random_velocity(setup.grid, 2, 0.5, gen), Tensor(), Tensor()};
  state.velocity =
      make_incompressible(state.velocity, setup.grid, setup.masks, setup.pressure_solve).velocity;
  state = fluid_rollout(state, setup, 4);
  // A velocity of scale |v| varies by |v|/Δx between cells: the divergence is small against that.
  const double relative =
      l2(staggered_divergence(state.velocity, setup.grid)) * setup.grid.dx() / l2(state.velocity.x_faces);
  MESSAGE("after 4 steps |div|·Δx / |v_x| = " << relative);
  CHECK(relative < 1e-4);
  CHECK(max_abs(state.velocity.x_faces * (1.0 - setup.masks.open.x_faces)) == 0.0);
}

TEST_CASE("fluid errors name the op and the mismatch") {
  const Grid2D grid = square_grid(8, 8.0, Boundary::neumann);
  Generator gen(6);
  const StaggeredField v = random_velocity(grid, 1, 1.0, gen);
  // Velocity of a periodic grid on a closed one.
  const StaggeredField periodic_v{zeros({1, 8, 8}, DType::f64), zeros({1, 8, 8}, DType::f64)};
  std::string message = error_message([&] { advect(periodic_v, periodic_v, grid, 1.0); });
  CHECK(contains(message, "advect"));
  CHECK(contains(message, "[1, 8, 9]"));
  message = error_message([&] { advect(zeros({1, 8, 8}, DType::f32), Staggering::centered, v, grid, 1.0); });
  CHECK(contains(message, "f32"));
  // Masks of another grid.
  const FluidMasks other = fluid_masks(square_grid(16, 8.0, Boundary::neumann));
  CHECK(contains(error_message([&] { make_incompressible(v, grid, other); }), "apply_masks"));
  CHECK(contains(error_message([&] { fluid_masks(grid, full({1, 8, 8}, 0.5, DType::f64)); }), "only 0"));
  CHECK(contains(error_message([&] { diffuse_explicit(v, grid, fluid_masks(grid), 1.0, 1.0); }), "unstable"));
  StaggeredField blown = {v.x_faces.clone(), v.y_faces};
  blown.x_faces.data<double>()[10] = NAN;
  CHECK(contains(error_message([&] { advect(blown, blown, grid, 1.0); }), "NaN"));
}
