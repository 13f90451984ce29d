// The device backend against the CPU: every op with a device kernel, on inputs that exercise broadcasting,
// coalesced and uncoalesced axes, NaN and ties. On a GPU this runs the CUDA kernels; in a build with
// DPHYS_CUDA_EMULATION (CI's sanitizer stage) the same kernels run on the host; otherwise every case skips.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "autodiff/fourier_ops.h"
#include "autodiff/nn_ops.h"
#include "cuda_test_util.h"
#include "engine/cg_kernels.h"
#include "engine/conv.h"
#include "engine/device_memory.h"
#include "engine/elementwise.h"
#include "engine/fft.h"
#include "engine/layout.h"
#include "engine/linalg.h"
#include "engine/max_pool.h"
#include "engine/stencil.h"
#include "nn/architectures.h"
#include "nn/serialize.h"
#include "optim/hig.h"
#include "solvers/fluid_advection.h"
#include "solvers/fluid_step.h"
#include "solvers/linear_solve.h"
#include "solvers/stencils.h"

using namespace dphys;
using namespace dphys::cuda_test;
using dphys::test::contains;
using dphys::test::error_message;

namespace {

// Values on a grid of quarters, so that ties and equalities occur.
Tensor grid_tensor(const Shape& shape, DType dtype, std::uint64_t seed) {
  std::vector<double> values = random_tensor(shape, DType::f64, seed).to_vector<double>();
  for (double& v : values) v = std::floor(v * 4.0) / 4.0;
  return from_vector(values, shape, dtype);
}

Tensor eye_like(std::int64_t n, DType dtype) {
  std::vector<double> values(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) values[i * n + i] = 1.0;
  return from_vector(values, {n, n}, dtype);
}

// i as a c128 scalar on the CPU.
Tensor imaginary_unit() {
  Tensor i = Tensor::empty({}, DType::c128);
  i.data<c128>()[0] = c128(0.0, 1.0);
  return i;
}

}  // namespace

TEST_CASE("device tensors: transfers round-trip and host code cannot read device memory") {
  if (!cuda_device_present()) return;
  const Tensor x = random_tensor({3, 5}, DType::f64, 1);
  const Tensor d = x.to(gpu);
  CHECK(d.device() == gpu);
  CHECK(x.to(Device::cpu()).storage() == x.storage());  // already there: no copy
  CHECK(d.to(Device::cpu()).to_vector<double>() == x.to_vector<double>());
  CHECK(d.to_vector<double>() == x.to_vector<double>());
  CHECK(d.clone().to_vector<double>() == x.to_vector<double>());
  CHECK(from_vector({2.5}, {}, DType::f64).to(gpu).item() == 2.5);
  CHECK(contains(d.str(), "device=cuda:0"));

  const std::string message = error_message([&] { d.data<double>(); });
  CHECK(contains(message, "cuda:0"));
  CHECK(contains(message, "[3, 5]"));
  CHECK(contains(message, "to(Device::cpu())"));

  // copy_ across devices is a transfer, with the dtype conversion on the source's device.
  Tensor target = zeros({3, 5}, DType::f32, gpu);
  target.copy_(x);
  check_agrees(target, cast(x, DType::f32), 0.0);
  Tensor back = zeros({3, 5}, DType::f64);
  back.copy_(d);
  CHECK(back.to_vector<double>() == x.to_vector<double>());

  check_agrees(zeros({4}, DType::f64, gpu), zeros({4}, DType::f64), 0.0);
  check_agrees(full({2, 3}, -1.5, DType::f32, gpu), full({2, 3}, -1.5, DType::f32), 0.0);
  check_agrees(full({2}, 7, DType::i64, gpu), full({2}, 7, DType::i64), 0.0);
  // Creation functions that fill on the host put their result on the device asked for.
  check_agrees(from_vector({1, 2, 3}, {3}, DType::f64, gpu), from_vector({1, 2, 3}, {3}, DType::f64), 0.0);
  check_agrees(arange(0, 5, 1, DType::f32, gpu), arange(0, 5, 1, DType::f32), 0.0);
  check_agrees(linspace(-1, 1, 7, DType::f64, gpu), linspace(-1, 1, 7, DType::f64), 0.0);
  check_agrees(from_indices({4, 0, 2}, {3}, gpu), from_indices({4, 0, 2}, {3}), 0.0);
}

TEST_CASE("device memory in use and its peak follow the tensors that hold it") {
  if (!cuda_device_present()) return;
  const std::size_t before = device_memory::in_use_bytes();
  device_memory::reset_peak();
  CHECK(device_memory::peak_bytes() == before);
  {
    const Tensor a = zeros({1000}, DType::f64, gpu), b = zeros({3000}, DType::f64, gpu);
    CHECK(device_memory::in_use_bytes() >= before + 32000);
  }
  CHECK(device_memory::in_use_bytes() == before);  // both blocks went back (to the cache: not in use)
  const std::size_t peak = device_memory::peak_bytes();
  CHECK(peak >= before + 32000);
  CHECK(peak < before + 32000 + 2 * 512);          // the blocks' rounding only
  const Tensor c = zeros({100}, DType::f64, gpu);  // a cached block handed out again counts as in use
  CHECK(device_memory::in_use_bytes() > before);
  CHECK(device_memory::peak_bytes() == peak);
}

TEST_CASE("device unary ops agree with the CPU, NaN and signed zero included") {
  if (!cuda_device_present()) return;
  using Op = Tensor (*)(const Tensor&);
  const std::vector<std::pair<const char*, Op>> ops{
      {"neg", neg},         {"exp", exp},   {"sin", sin}, {"cos", cos},   {"tanh", tanh},
      {"sigmoid", sigmoid}, {"relu", relu}, {"abs", abs}, {"sign", sign}, {"erf", erf}};
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor x = concat(
        {random_tensor({40}, dtype, 2), cast(from_vector({0.0, -0.0, NAN, 3.0}, {4}, DType::f64), dtype)});
    for (const auto& [name, op] : ops) {
      CAPTURE(name);
      check_op([op = op](const std::vector<Tensor>& in) { return op(in[0]); }, {x}, tolerance(dtype));
    }
    const Tensor positive = random_tensor({7, 3}, dtype, 3, 0.1, 4.0);
    check_op([](const std::vector<Tensor>& in) { return log(in[0]); }, {positive}, tolerance(dtype));
    check_op([](const std::vector<Tensor>& in) { return sqrt(in[0]); }, {positive}, tolerance(dtype));
  }
}

TEST_CASE("device binary ops agree with the CPU under broadcasting and promotion") {
  if (!cuda_device_present()) return;
  using Op = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, Op>> ops{
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}, {"maximum", maximum}, {"minimum", minimum},
      {"eq", eq},   {"ne", ne},   {"lt", lt},   {"le", le},   {"gt", gt},           {"ge", ge}};
  const std::vector<std::pair<Shape, Shape>> shapes{{{3, 4}, {3, 4}},
                                                    {{2, 3, 4}, {4}},
                                                    {{2, 1, 4}, {3, 1}},
                                                    {{}, {2, 3}},
                                                    {{5, 1, 1, 3}, {1, 4, 2, 1}},
                                                    {{2, 3, 4, 5}, {3, 1, 5}}};
  std::uint64_t seed = 10;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = grid_tensor(sa, dtype, ++seed), b = grid_tensor(sb, dtype, ++seed);
      for (const auto& [name, op] : ops) {
        CAPTURE(name);
        CAPTURE(shape_str(sa));
        CAPTURE(shape_str(sb));
        check_op([op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); }, {a, b},
                 tolerance(dtype));
      }
      const Tensor positive = random_tensor(sa, dtype, ++seed, 0.5, 2.0);
      check_op([](const std::vector<Tensor>& in) { return pow(in[0], in[1]); }, {positive, b},
               tolerance(dtype));
    }
  }
  // f32 with f64 promotes to f64 on the device as on the CPU; NaN propagates through maximum and minimum.
  const Tensor a = cast(from_vector({1.0, NAN, 3.0, -1.0}, {4}, DType::f64), DType::f32);
  const Tensor b = from_vector({NAN, 2.0, 1.0, -1.0}, {4}, DType::f64);
  check_op([](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); }, {a, b}, 0.0);
  check_op([](const std::vector<Tensor>& in) { return minimum(in[0], in[1]); }, {a, b}, 0.0);
  check_op([](const std::vector<Tensor>& in) { return in[0] * in[1] + 1.0; }, {a, b}, 1e-7);
}

TEST_CASE("device where, cast and in-place updates agree with the CPU") {
  if (!cuda_device_present()) return;
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor cond = gt(random_tensor({3, 1}, dtype, 30), scalar(0.0, dtype));
    const Tensor a = random_tensor({2, 3, 4}, dtype, 31), b = random_tensor({4}, DType::f64, 32);
    check_op([](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); }, {cond, a, b},
             tolerance(DType::f64));

    for (DType to : {DType::f32, DType::f64, DType::i64})
      check_op([to](const std::vector<Tensor>& in) { return cast(in[0], to); }, {mul(a, scalar(3.0, dtype))},
               tolerance(to));

    const auto updated = [dtype](const std::vector<Tensor>& in) {
      NoGradGuard no_grad;
      Tensor target = in[0].clone();
      target.add_(in[1], -0.5);  // broadcast [4] into [2, 3, 4], f64 into f32
      target.mul_(3.0);
      return target;
    };
    check_op(updated, {a, b}, tolerance(dtype));
  }
  const Tensor indices = from_indices({4, -2, 7}, {3});
  check_op([](const std::vector<Tensor>& in) { return cast(in[0], DType::f32); }, {indices}, 0.0);
}

TEST_CASE("device reductions agree with the CPU over every axis pattern") {
  if (!cuda_device_present()) return;
  const std::vector<std::vector<int>> axes_list{{}, {0}, {1}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = grid_tensor({4, 5, 6}, dtype, 40);
    for (const auto& axes : axes_list)
      for (bool keepdims : {false, true}) {
        CAPTURE(axes.size());
        CAPTURE(keepdims);
        check_op([&](const std::vector<Tensor>& in) { return sum(in[0], axes, keepdims); }, {x},
                 tolerance(dtype));
        check_op([&](const std::vector<Tensor>& in) { return max(in[0], axes, keepdims); }, {x}, 0.0);
        check_op([&](const std::vector<Tensor>& in) { return min(in[0], axes, keepdims); }, {x}, 0.0);
        check_op([&](const std::vector<Tensor>& in) { return mean(in[0], axes, keepdims); }, {x},
                 tolerance(dtype));
      }
    // Long reductions with few outputs take the GPU's block-per-output path; f32 accumulates in f64 there
    // too. The summation order differs from the CPU's chunks, hence the looser bound in f64.
    const Tensor long_x = random_tensor({3, 70000}, dtype, 41);
    const double long_tolerance = dtype == DType::f32 ? 2e-6 : 1e-12;
    check_op([](const std::vector<Tensor>& in) { return sum(in[0]); }, {long_x}, long_tolerance);
    check_op([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {long_x}, long_tolerance);
    check_op([](const std::vector<Tensor>& in) { return max(in[0], {1}); }, {long_x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return sum(in[0], {0}); }, {long_x}, tolerance(dtype));
    for (int axis : {0, 1, 2})
      check_op([axis](const std::vector<Tensor>& in) { return argmax(in[0], axis); }, {x}, 0.0);
  }
  // NaN wins max wherever it sits.
  const Tensor with_nan = from_vector({1.0, NAN, 3.0, 4.0, 5.0, 6.0}, {2, 3}, DType::f64);
  check_op([](const std::vector<Tensor>& in) { return max(in[0], {1}); }, {with_nan}, 0.0);
  check_op([](const std::vector<Tensor>& in) { return min(in[0], {0}); }, {with_nan}, 0.0);
}

TEST_CASE("device layout ops agree with the CPU") {
  if (!cuda_device_present()) return;
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = random_tensor({2, 3, 4, 5}, dtype, 50);
    check_op([](const std::vector<Tensor>& in) { return permute(in[0], {2, 0, 3, 1}); }, {x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return transpose(in[0]); }, {x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return broadcast_to(in[0], {3, 2, 3, 4, 5}); }, {x}, 0.0);
    check_op(
        [](const std::vector<Tensor>& in) {
          return broadcast_to(in[0], {2, 4, 3});
        },
        {random_tensor({2, 1, 3}, dtype, 51)}, 0.0);
    const Tensor y = random_tensor({2, 2, 4, 5}, dtype, 52), z = random_tensor({2, 3, 4, 1}, dtype, 53);
    check_op([](const std::vector<Tensor>& in) { return concat({in[0], in[1]}, 1); }, {x, y}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return concat({in[0], in[1], in[0]}, 3); }, {x, z}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return stack({in[0], in[0]}, 0); }, {x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return slice(in[0], 3, 1, 5, 2); }, {x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return roll(in[0], -2, 2); }, {x}, 0.0);
    check_op([](const std::vector<Tensor>& in) { return flip(in[0], 1); }, {x}, 0.0);
    for (PadMode mode : {PadMode::constant, PadMode::periodic, PadMode::edge})
      check_op(
          [mode](const std::vector<Tensor>& in) {
            return pad(in[0], {{0, 0}, {1, 2}, {0, 1}, {3, 0}}, mode, 0.5);
          },
          {x}, 0.0);
  }
  const Tensor complex_grid = cast(random_tensor({3, 4}, DType::f64, 54), DType::c128);
  const Tensor moved = transpose(complex_grid.to(gpu)).to(Device::cpu());
  CHECK(test::max_abs_diff(cast(abs(moved), DType::f64), cast(abs(transpose(complex_grid)), DType::f64)) ==
        0.0);
}

TEST_CASE("device matmul (cuBLAS's column-major GEMM) agrees with the CPU under batch broadcasting") {
  if (!cuda_device_present()) return;
  const std::vector<std::pair<Shape, Shape>> shapes{
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 5}},    {{2, 1, 3, 4}, {5, 4, 6}},
      {{2, 3, 4}, {2, 4, 1}}, {{1, 3, 4}, {4, 2}}, {{6, 1, 7}, {6, 7, 3}}, {{3, 0}, {0, 4}}};
  std::uint64_t seed = 60;
  for (DType dtype : {DType::f32, DType::f64})
    for (const auto& [sa, sb] : shapes) {
      CAPTURE(shape_str(sa));
      CAPTURE(shape_str(sb));
      check_op([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
               {random_tensor(sa, dtype, ++seed), random_tensor(sb, dtype, ++seed)},
               dtype == DType::f32 ? 1e-5 : 1e-13);
    }
}

TEST_CASE("gradients computed on the device equal the CPU's, and to_device carries them across") {
  if (!cuda_device_present()) return;
  // A small network with every kind of op the device has: matmul, broadcasting, activations, slicing,
  // padding, reductions. f64, so the two devices agree to round-off.
  const auto loss = [](const std::vector<Tensor>& p) {
    const Tensor h = tanh(add(matmul(p[0], p[1]), p[2]));
    const Tensor padded = pad(relu(h), {{0, 0}, {1, 1}}, PadMode::periodic);
    const Tensor shifted = roll(slice(padded, 1, 1, 6), 1, 1);
    return mean(square(sub(shifted, p[3]))) + max(sigmoid(h)) * 0.1;
  };
  const std::vector<Tensor> params{random_tensor({8, 3}, DType::f64, 70),
                                   random_tensor({3, 5}, DType::f64, 71), random_tensor({5}, DType::f64, 72),
                                   random_tensor({8, 5}, DType::f64, 73)};
  std::vector<Tensor> on_device;
  for (const Tensor& p : params) on_device.push_back(p.to(gpu));
  const std::vector<Tensor> cpu_grads = grad(loss, params);
  const std::vector<Tensor> device_grads = grad(loss, on_device);
  REQUIRE(device_grads.size() == cpu_grads.size());
  for (std::size_t i = 0; i < cpu_grads.size(); ++i) {
    CAPTURE(i);
    check_agrees(device_grads[i], cpu_grads[i], 1e-13);
  }

  // A CPU leaf used on the device: the gradient comes back to the CPU.
  const Tensor x = random_tensor({6}, DType::f64, 74);
  const Tensor g = grad([](const Tensor& v) { return sum(square(to_device(v, gpu))); }, x);
  CHECK(g.device() == Device::cpu());
  CHECK(test::max_abs_diff(g, mul(scalar(2.0, DType::f64), x)) < 1e-15);
  // to_device against finite differences, there and back inside one function.
  const Function round_trip = [](const std::vector<Tensor>& v) {
    return sum(sin(to_device(exp(to_device(v[0], gpu)), Device::cpu())));
  };
  CHECK(test::max_abs_diff(grad(round_trip, {x})[0], test::finite_difference_gradient(round_trip, {x}, 0)) <
        1e-8);
}

TEST_CASE("device stencils agree with the CPU on every boundary") {
  if (!cuda_device_present()) return;
  for (DType dtype : {DType::f32, DType::f64})
    for (Boundary boundary : {Boundary::periodic, Boundary::dirichlet, Boundary::neumann}) {
      CAPTURE(static_cast<int>(boundary));
      const bool periodic = boundary == Boundary::periodic;
      const std::int64_t ny = 5, nx = 7, nyf = periodic ? ny : ny + 1, nxf = periodic ? nx : nx + 1;
      const Tensor x = random_tensor({3, ny, nx}, dtype, 90);
      check_op(
          [&](const std::vector<Tensor>& in) { return kernel::laplacian(in[0], 2, 0.5, 0.25, boundary); },
          {x}, tolerance(dtype) * 10);
      check_op(
          [&](const std::vector<Tensor>& in) { return kernel::laplacian(in[0], 1, 1.0, 0.25, boundary); },
          {x}, tolerance(dtype) * 10);
      // Shared x-face weights, per-example y-face weights and diagonal; then no diagonal at all.
      const Tensor wx = random_tensor({1, ny, nxf}, dtype, 91, 0.5, 1.5);
      const Tensor wy = random_tensor({3, nyf, nx}, dtype, 92, 0.5, 1.5);
      const Tensor d = random_tensor({3, ny, nx}, dtype, 93, 0.0, 1.0);
      check_op(
          [&](const std::vector<Tensor>& in) {
            return kernel::weighted_poisson(in[0], in[1], in[2], in[3], 0.5, 0.25, boundary);
          },
          {x, wx, wy, d}, tolerance(dtype) * 10);
      check_op(
          [&](const std::vector<Tensor>& in) {
            return kernel::weighted_poisson(in[0], in[1], in[2], Tensor(), 0.5, 0.25, boundary);
          },
          {x, wx, wy}, tolerance(dtype) * 10);
      for (int axis : {1, 2}) {
        const Tensor faces = random_tensor({3, axis == 1 ? nyf : ny, axis == 2 ? nxf : nx}, dtype, 94);
        check_op(
            [&](const std::vector<Tensor>& in) {
              return kernel::face_difference(in[0], axis, 0.5, periodic);
            },
            {faces}, tolerance(dtype));
        check_op(
            [&](const std::vector<Tensor>& in) {
              return kernel::face_difference_adjoint(in[0], axis, 0.5, periodic);
            },
            {x}, tolerance(dtype));
      }
    }
  // Weights on another device than p are refused, not read through a host pointer.
  const Tensor p = random_tensor({1, 4, 4}, DType::f64, 95).to(gpu);
  const Tensor w = ones({1, 4, 4}, DType::f64);
  CHECK(
      contains(error_message([&] { kernel::weighted_poisson(p, w, w, Tensor(), 1, 1, Boundary::periodic); }),
               "is on cuda:0"));
}

TEST_CASE("device CG kernels and a differentiable CG solve agree with the CPU") {
  if (!cuda_device_present()) return;
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor a = random_tensor({3, 40}, dtype, 100), b = random_tensor({3, 40}, dtype, 101);
    check_agrees(kernel::batched_dot(a.to(gpu), b.to(gpu)), kernel::batched_dot(a, b), 1e-12);

    // The fused update, run on copies of the same state on both devices.
    std::vector<Tensor> cpu_state, device_state;
    for (std::uint64_t seed = 102; seed < 107; ++seed) {
      cpu_state.push_back(random_tensor({3, 40}, dtype, seed));
      device_state.push_back(cpu_state.back().to(gpu));
    }
    const Tensor diagonal = random_tensor({3, 40}, dtype, 107, 1.0, 2.0);
    const Tensor alpha = from_vector({0.5, -1.0, 2.0}, {3}, DType::f64),
                 beta = from_vector({0.25, 0.0, 3.0}, {3}, DType::f64);
    const Tensor cpu_rz = kernel::cg_update(cpu_state[0], cpu_state[1], cpu_state[2], cpu_state[3],
                                            cpu_state[4], alpha, diagonal);
    const Tensor device_rz =
        kernel::cg_update(device_state[0], device_state[1], device_state[2], device_state[3], device_state[4],
                          alpha.to(gpu), diagonal.to(gpu));
    check_agrees(device_rz, cpu_rz, 1e-10);
    kernel::cg_direction(cpu_state[3], cpu_state[2], beta);
    kernel::cg_direction(device_state[3], device_state[2], beta.to(gpu));
    for (int k = 0; k < 4; ++k) check_agrees(device_state[k], cpu_state[k], tolerance(dtype));
  }

  // The solve's per-example record (iterations, convergence, residuals) equals the CPU's, though the device
  // path reads it only every few iterations; so does the error for an operator that is not definite.
  {
    const Tensor c = random_tensor({3, 6, 6}, DType::f64, 108, 0.0, 1.0);
    const Tensor b = concat({zeros({1, 6, 6}, DType::f64), random_tensor({2, 6, 6}, DType::f64, 109)}, 0);
    const auto solve = [](const Tensor& c, const Tensor& b, const Tensor& x0, int max_iterations) {
      CgOptions options;
      options.rel_tol = 1e-12;
      options.max_iterations = max_iterations;
      options.strict = false;  // the short solves stop unconverged on purpose
      const LinearOperator op = [&c](const Tensor& x) {
        return c * x - laplacian(x, 2, 1.0, 1.0, Boundary::dirichlet);
      };
      return conjugate_gradient(op, b, x0, options);
    };
    for (const int max_iterations : {3, 7, 1000}) {
      CAPTURE(max_iterations);
      const CgResult on_cpu = solve(c, b, Tensor(), max_iterations);
      const CgResult on_device = solve(c.to(gpu), b.to(gpu), Tensor(), max_iterations);
      CHECK(on_device.iterations == on_cpu.iterations);
      CHECK(on_device.converged == on_cpu.converged);
      for (int e = 0; e < 3; ++e)
        CHECK(on_device.residual[e] == doctest::Approx(on_cpu.residual[e]).epsilon(1e-9));
      check_agrees(on_device.x, on_cpu.x, 1e-12);
      const CgResult warm_cpu = solve(c, b, on_cpu.x, 1000);
      const CgResult warm_device = solve(c.to(gpu), b.to(gpu), on_device.x, 1000);
      CHECK(warm_device.iterations == warm_cpu.iterations);
    }
    // NaN in the right-hand side: the same error on both devices (on the device, at CG's first read).
    Tensor poisoned = b.clone();
    poisoned.data<double>()[40] = NAN;
    for (const Device device : {Device::cpu(), gpu})
      CHECK(contains(error_message([&] { solve(c.to(device), poisoned.to(device), Tensor(), 10); }),
                     "conjugate_gradient: the right-hand side of shape [3, 6, 6] contains NaN or Inf"));
    const Tensor indefinite = from_vector({1.0, -2.0, 1.0}, {3, 1, 1}, DType::f64);
    const auto scale = [](const Tensor& factor) { return [factor](const Tensor& x) { return factor * x; }; };
    for (const Device device : {Device::cpu(), gpu}) {
      const std::string message =
          error_message([&] { conjugate_gradient(scale(indefinite.to(device)), b.to(device)); });
      // In its first iteration p = b, so pᵀAp = −2‖b₁‖².
      const std::string prefix = "example 1 has pᵀAp = ";
      REQUIRE(contains(message, prefix));
      const double curvature = std::stod(message.substr(message.find(prefix) + prefix.size()));
      CHECK(curvature == doctest::Approx(-2.0 * sum(square(slice(b, 0, 1, 2))).item()).epsilon(1e-12));
      CHECK(contains(message, "at iteration 0; the operator is not positive definite"));
    }
  }

  // x = A(c)⁻¹ b for A = the Dirichlet weighted Poisson operator + c, and the gradient with respect to b and
  // c.
  const Grid2D grid{6, 8, 1.0, 1.0, 0.0, 0.0, Boundary::dirichlet};
  const auto solve_loss = [&grid](const Tensor& b, const Tensor& c, const Tensor& target) {
    const Tensor wx = ones({1, 6, 9}, b.dtype(), b.device()), wy = ones({1, 7, 8}, b.dtype(), b.device());
    const ParametrisedOperator op = [&grid, wx, wy](const Tensor& x, const std::vector<Tensor>& params) {
      return weighted_poisson(x, {wx, wy}, Tensor(), grid) + x * params[0];
    };
    CgOptions options;
    options.rel_tol = 1e-12;
    options.strict = true;
    return sum(square(linear_solve(op, b, {c}, options)) * target);
  };
  const std::vector<Tensor> inputs{random_tensor({2, 6, 8}, DType::f64, 110),
                                   random_tensor({2, 6, 8}, DType::f64, 111, 0.5, 1.0),
                                   random_tensor({2, 6, 8}, DType::f64, 112)};
  const auto loss_and_grads = [&solve_loss](const std::vector<Tensor>& in) {
    std::vector<Tensor> results{solve_loss(in[0], in[1], in[2])};
    for (const Tensor& g :
         grad([&](const std::vector<Tensor>& v) { return solve_loss(v[0], v[1], in[2]); }, {in[0], in[1]}))
      results.push_back(g);
    return results;
  };
  std::vector<Tensor> on_device;
  for (const Tensor& x : inputs) on_device.push_back(x.to(gpu));
  const auto cpu_results = loss_and_grads(inputs);
  const auto device_results = loss_and_grads(on_device);
  REQUIRE(device_results.size() == 3);
  for (std::size_t i = 0; i < cpu_results.size(); ++i) {
    CAPTURE(i);
    check_agrees(device_results[i], cpu_results[i], 1e-9);
  }
}

TEST_CASE("the fused advection kernel on the device agrees with the CPU in value and adjoint") {
  if (!cuda_device_present()) return;
  // Traces that cross cells, wrap and leave the grid on a 5×7 grid; every boundary, scheme, trace and
  // staggering, as the CPU kernel is tested against the op-by-op version.
  std::uint64_t seed = 120;
  for (const Boundary boundary : {Boundary::periodic, Boundary::neumann, Boundary::dirichlet}) {
    const Grid2D grid{5, 7, 5.0, 10.5, 0.0, -1.0, boundary};
    for (const AdvectionScheme scheme : {AdvectionScheme::semi_lagrangian, AdvectionScheme::mac_cormack})
      for (const BackTrace trace : {BackTrace::euler, BackTrace::rk2})
        for (const Staggering staggering : {Staggering::centered, Staggering::x_faces, Staggering::y_faces}) {
          CAPTURE(static_cast<int>(boundary));
          CAPTURE(static_cast<int>(scheme));
          CAPTURE(static_cast<int>(trace));
          CAPTURE(static_cast<int>(staggering));
          const AdvectionOptions options{scheme, trace};
          const std::vector<Tensor> inputs{
              random_tensor(staggered_shape(grid, staggering, 3), DType::f64, ++seed),
              random_tensor(staggered_shape(grid, Staggering::x_faces, 3), DType::f64, ++seed, -3.0, 3.0),
              random_tensor(staggered_shape(grid, Staggering::y_faces, 3), DType::f64, ++seed, -3.0, 3.0)};
          const Tensor cotangent = random_tensor(inputs[0].shape(), DType::f64, ++seed);
          const auto run = [&](const std::vector<Tensor>& in) {
            return advect(in[0], staggering, {in[1], in[2]}, grid, 0.7, options);
          };
          std::vector<Tensor> on_device;
          for (const Tensor& x : inputs) on_device.push_back(x.to(gpu));
          const auto [value, grads] = vjp(run, inputs, cotangent);
          const auto [device_value, device_grads] = vjp(run, on_device, cotangent.to(gpu));
          check_agrees(device_value, value, 1e-14);
          // The device scatters with atomic adds, in an order that may differ from the CPU's.
          for (std::size_t i = 0; i < grads.size(); ++i) check_agrees(device_grads[i], grads[i], 1e-12);
          check_op([&](const std::vector<Tensor>& in) { return run(in); },
                   {cast(inputs[0], DType::f32), cast(inputs[1], DType::f32), cast(inputs[2], DType::f32)},
                   1e-6);
        }
  }
  const Grid2D grid{4, 4, 4.0, 4.0, 0.0, 0.0, Boundary::periodic};
  const Tensor blown = full(staggered_shape(grid, Staggering::x_faces, 1), NAN, DType::f64, gpu);
  const Tensor q = zeros({1, 4, 4}, DType::f64, gpu);
  // Found on the device, raised at the next read from it.
  CHECK(contains(error_message([&] {
                   sum(advect(q, Staggering::centered, {blown, blown}, grid, 1.0)).item();
                 }),
                 "blow up"));
}

TEST_CASE("a fluid rollout with obstacles and its checkpointed gradient agree between the devices") {
  if (!cuda_device_present()) return;
  // Closed box with two obstacle cells, MacCormack with RK2 traces, implicit viscosity, energy
  // renormalisation: every kernel of the fluid step on the device.
  const Grid2D grid{8, 8, 8.0, 8.0, 0.0, 0.0, Boundary::neumann};
  std::vector<double> solid_cells(64, 0.0);
  solid_cells[3 * 8 + 4] = solid_cells[4 * 8 + 4] = 1.0;
  const Tensor solid = from_vector(solid_cells, {1, 8, 8}, DType::f64);
  const auto make_setup = [&](Device device) {
    FluidSetup setup;
    setup.grid = grid;
    setup.masks = fluid_masks(grid, solid, DType::f64, device);
    setup.dt = 0.5;
    setup.advection = {AdvectionScheme::mac_cormack, BackTrace::rk2};
    setup.viscosity = 0.05;
    setup.viscous_step = ViscousStep::implicit_euler;
    setup.renormalize_energy = true;
    setup.pressure_solve.rel_tol = 1e-13;
    setup.pressure_solve.abs_tol = 1e-15;
    setup.viscous_solve.rel_tol = 1e-13;
    return setup;
  };
  const FluidSetup cpu_setup = make_setup(Device::cpu()), device_setup = make_setup(gpu);
  const std::vector<Tensor> inputs{random_tensor(grid.x_face_shape(2), DType::f64, 130, -0.5, 0.5),
                                   random_tensor(grid.y_face_shape(2), DType::f64, 131, -0.5, 0.5),
                                   random_tensor({2, 8, 8}, DType::f64, 132, 0.0, 1.0),
                                   random_tensor(grid.x_face_shape(2), DType::f64, 133),
                                   random_tensor({2, 8, 8}, DType::f64, 134)};
  const auto loss_and_grads = [](const FluidSetup& setup, const std::vector<Tensor>& in,
                                 int checkpoint_every) {
    const Function loss = [&](const std::vector<Tensor>& v) {
      const FluidState end = fluid_rollout({{v[0], v[1]}, v[2], Tensor()}, setup, 4, checkpoint_every);
      return sum(in[3] * end.velocity.x_faces) + sum(in[4] * end.marker);
    };
    auto [value, grads] = value_and_grad(loss, {in[0], in[1], in[2]});
    grads.insert(grads.begin(), value);
    return grads;
  };
  std::vector<Tensor> on_device;
  for (const Tensor& x : inputs) on_device.push_back(x.to(gpu));
  const auto cpu_results = loss_and_grads(cpu_setup, inputs, 0);
  for (int checkpoint_every : {0, 2}) {
    CAPTURE(checkpoint_every);
    const auto device_results = loss_and_grads(device_setup, on_device, checkpoint_every);
    REQUIRE(device_results.size() == cpu_results.size());
    for (std::size_t i = 0; i < cpu_results.size(); ++i) {
      CAPTURE(i);
      check_agrees(device_results[i], cpu_results[i], 1e-9);
    }
  }
}

TEST_CASE("device svd, eigh and gram (cuSOLVER, cuBLAS) agree with the CPU's") {
  if (!cuda_device_present()) return;
  std::uint64_t seed = 140;
  for (DType dtype : {DType::f32, DType::f64}) {
    const double tol = dtype == DType::f32 ? 2e-5 : 1e-12;
    for (const Shape& shape : {Shape{5, 8}, Shape{8, 5}, Shape{6, 6}}) {
      CAPTURE(shape_str(shape));
      const Tensor a = random_tensor(shape, dtype, ++seed);
      const kernel::Svd cpu = kernel::svd(a), device = kernel::svd(a.to(gpu));
      check_agrees(device.s, cpu.s, tol);
      // Singular vectors are unique up to sign: compare the reconstruction and orthonormality instead.
      const Tensor rebuilt = matmul(device.u * unsqueeze(device.s, 0), transpose(device.v));
      check_agrees(rebuilt, a, tol * 10);
      const std::int64_t k = std::min(shape[0], shape[1]);
      check_agrees(matmul(transpose(device.u), device.u), eye_like(k, dtype), tol * 10);
      check_agrees(matmul(transpose(device.v), device.v), eye_like(k, dtype), tol * 10);
    }
    // eigh reads the lower triangle only: garbage above the diagonal must not matter.
    const Tensor b = random_tensor({7, 7}, dtype, ++seed);
    const Tensor symmetric = matmul(b, transpose(b));
    std::vector<double> lower = cast(symmetric, DType::f64).to_vector<double>();
    for (int i = 0; i < 7; ++i)
      for (int j = i + 1; j < 7; ++j) lower[i * 7 + j] = 100.0 + j;
    const Tensor garbled = from_vector(lower, {7, 7}, dtype);
    const kernel::Eigh cpu_eigh = kernel::eigh(garbled), device_eigh = kernel::eigh(garbled.to(gpu));
    check_agrees(device_eigh.eigenvalues, cpu_eigh.eigenvalues, tol * 10);
    check_agrees(matmul(device_eigh.eigenvectors * unsqueeze(device_eigh.eigenvalues, 0),
                        transpose(device_eigh.eigenvectors)),
                 symmetric, tol * 100);

    const Tensor wide = random_tensor({6, 40}, dtype, ++seed);
    const Tensor gram = kernel::gram(wide.to(gpu));
    check_agrees(gram, kernel::gram(wide), tol);
    CHECK(test::max_abs_diff(gram, transpose(gram)) == 0.0);
  }
  const Tensor broken = from_vector({1.0, NAN, 0.0, 1.0}, {2, 2}, DType::f64).to(gpu);
  CHECK(contains(error_message([&] { kernel::svd(broken); }), "NaN"));
  CHECK(contains(error_message([&] { kernel::eigh(broken); }), "NaN"));
}

TEST_CASE("a HIG step on the device equals the CPU's, through the SVD and the Gram routes") {
  if (!cuda_device_present()) return;
  for (optim::HigSolver solver : {optim::HigSolver::svd, optim::HigSolver::gram}) {
    CAPTURE(static_cast<int>(solver));
    const auto run = [solver](Device device) {
      Generator gen(150);
      nn::MlpOptions mlp;
      mlp.activation = nn::Activation::tanh;
      const auto network = nn::make_mlp(3, {8}, 2, gen, mlp, DType::f64);
      network->to(device);
      const Tensor input = random_tensor({5, 3}, DType::f64, 151).to(device);
      const Tensor target = random_tensor({5, 2}, DType::f64, 152).to(device);
      optim::HigOptions options;
      options.lr = 0.5;
      options.power.solver = solver;
      optim::HigTrainer trainer(
          *network, [](const Tensor& u, const Tensor&) { return sin(u) * 2.0; },
          [](const Tensor& y, const Tensor& t) { return sum(square(y - t), {1}) * 0.5; }, options);
      const optim::HigReport report = trainer.step(input, target);
      std::vector<Tensor> results{scalar(report.loss, DType::f64),
                                  scalar(report.largest_singular_value, DType::f64),
                                  scalar(static_cast<double>(report.kept), DType::f64)};
      for (const Tensor& p : network->parameters()) results.push_back(p.to(Device::cpu()));
      return results;
    };
    const auto cpu = run(Device::cpu()), device = run(gpu);
    REQUIRE(cpu.size() == device.size());
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      CAPTURE(i);
      CHECK(test::max_abs_diff(device[i], cpu[i]) < 1e-10 * (1 + test::max_abs(cpu[i])));
    }
    // J^κ v itself: the result and the singular values stay on J's device, whichever route.
    optim::JacobianPowerOptions power;
    power.solver = solver;
    const Tensor j = random_tensor({4, 9}, DType::f64, 153), v = random_tensor({4}, DType::f64, 154);
    const optim::JacobianPower on_cpu = optim::apply_jacobian_power(j, v, power),
                               on_device = optim::apply_jacobian_power(j.to(gpu), v.to(gpu), power);
    check_agrees(on_device.result, on_cpu.result, 1e-12);
    check_agrees(on_device.singular_values, on_cpu.singular_values, 1e-12);
  }
}

TEST_CASE("device convolutions and their adjoints agree with the CPU, with strides and padding") {
  if (!cuda_device_present()) return;
  std::uint64_t seed = 160;
  // No padding; zeros; periodic; periodic wider than the image (the wrap goes round twice).
  const std::vector<kernel::ConvPad> pads{{}, {1, 2, false}, {1, 2, true}, {10, 1, true}};
  for (DType dtype : {DType::f32, DType::f64})
    for (std::int64_t stride : {1, 2})
      for (const kernel::ConvPad& pad : pads) {
        CAPTURE(stride);
        CAPTURE(pad.h);
        CAPTURE(pad.periodic);
        const double tol = dtype == DType::f32 ? 1e-5 : 1e-13;
        const Tensor x = random_tensor({2, 3, 9, 8}, dtype, ++seed),
                     w = random_tensor({4, 3, 3, 2}, dtype, ++seed);
        const Tensor y = kernel::conv2d(x, w, stride, pad);
        check_op([&](const std::vector<Tensor>& in) { return kernel::conv2d(in[0], in[1], stride, pad); },
                 {x, w}, tol);
        const Tensor g = random_tensor(y.shape(), dtype, ++seed);
        check_op(
            [&](const std::vector<Tensor>& in) {
              return kernel::conv2d_input_grad(in[0], in[1], stride, 9, 8, pad);
            },
            {g, w}, tol);
        check_op(
            [&](const std::vector<Tensor>& in) {
              return kernel::conv2d_weight_grad(in[0], in[1], stride, 3, 2, pad);
            },
            {x, g}, tol);
      }
}

TEST_CASE("training-mode batch norm and its fused backward agree between the devices") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    check_op_and_gradients(
        [](const std::vector<Tensor>& v) { return batch_norm_train(v[0], v[1], v[2], 1e-5); },
        {random_tensor({4, 3, 5, 7}, dtype, 300), random_tensor({3}, dtype, 301),
         random_tensor({3}, dtype, 302)},
        dtype == DType::f32 ? 1e-4 : 1e-12);
  }
}

TEST_CASE("the max-pooling backward kernel agrees between the devices, ties included") {
  if (!cuda_device_present()) return;
  for (const DType dtype : {DType::f32, DType::f64}) {
    // Signs (±1) tie in most windows; 7 x 9 with 2 x 3 windows leaves a row outside every window.
    const Tensor x = sign(random_tensor({2, 3, 7, 9}, dtype, 310));
    const Tensor y = max(reshape(slice(x, 2, 0, 6), {2, 3, 3, 2, 3, 3}), {3, 5});
    const Tensor g = random_tensor(y.shape(), dtype, 311);
    check_op(
        [](const std::vector<Tensor>& in) { return kernel::max_pool_backward(in[0], in[1], in[2], 2, 3); },
        {x, y, g}, dtype == DType::f32 ? 1e-6 : 1e-15);
  }
}

TEST_CASE("a small CNN's gradients (conv, pooling, upsampling, index ops) agree between the devices") {
  if (!cuda_device_present()) return;
  const auto loss = [](const std::vector<Tensor>& p) {
    Tensor h = leaky_relu(conv2d(p[0], p[1], p[2], 1, 1, ConvPadding::circular), 0.1);
    h = max_pool2d(h, 2) + avg_pool2d(h, 2);
    h = upsample_linear(h, 2) + upsample_nearest(h, 2);
    const Tensor picked = index_select(h, 1, from_indices({2, 0, 2}, {3}).to(p[0].device()));
    return sum(square(picked)) + sum(gather(h, 3, p[3]) * 0.5);
  };
  const Tensor index = from_indices({0, 5, 3, 7, 1, 2, 6, 4}, {1, 1, 1, 8});
  std::vector<Tensor> params{random_tensor({2, 3, 8, 8}, DType::f64, 170),
                             random_tensor({4, 3, 3, 3}, DType::f64, 171),
                             random_tensor({4}, DType::f64, 172), kernel::broadcast_to(index, {2, 4, 8, 8})};
  std::vector<Tensor> on_device;
  for (const Tensor& x : params) on_device.push_back(x.to(gpu));
  const auto grads_of = [&loss](const std::vector<Tensor>& in) {
    auto [value, grads] = value_and_grad(
        [&](const std::vector<Tensor>& v) {
          return loss({v[0], v[1], v[2], in[3]});
        },
        {in[0], in[1], in[2]});
    grads.insert(grads.begin(), value);
    return grads;
  };
  const auto cpu = grads_of(params), device = grads_of(on_device);
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    CAPTURE(i);
    check_agrees(device[i], cpu[i], 1e-12);
  }
  // scatter_add against the CPU, and an index out of range is an error on the device too.
  const Tensor base = random_tensor({3, 5}, DType::f64, 173), src = random_tensor({3, 4}, DType::f64, 174);
  const Tensor where_to = from_indices({0, 4, 4, 1, 2, 2, 2, 0, 3, 1, 0, 4}, {3, 4});
  check_op([](const std::vector<Tensor>& in) { return kernel::scatter_add(in[0], 1, in[1], in[2]); },
           {base, where_to, src}, 1e-15);
  check_op([](const std::vector<Tensor>& in) { return kernel::index_add(in[0], 1, in[1], in[2]); },
           {base, from_indices({4, 0, 4, 2}, {4}), src}, 1e-15);
}

TEST_CASE("an index out of range on the device raises at the next read from it, once, naming the op") {
  if (!cuda_device_present()) return;
  const Tensor base = random_tensor({3, 5}, DType::f64, 175).to(gpu);
  const Tensor bad = from_indices({0, 5, 1, 1, 2, 0}, {3, 2}).to(gpu);
  const Tensor good = from_indices({0, 4, 1, 1, 2, 0}, {3, 2}).to(gpu);
  const Tensor src = random_tensor({3, 2}, DType::f64, 176).to(gpu);
  const auto read = [](const Tensor& t) { return sum(t).item(); };
  // The op itself does not wait for the device; the read after it raises.
  const Tensor gathered = kernel::gather(base, 1, bad);
  std::string message = error_message([&] { read(gathered); });
  CHECK(contains(message, "gather: an index is out of range for axis 1 of shape [3, 5]"));
  CHECK(contains(message, "raised at the next read"));
  CHECK(std::isfinite(read(kernel::gather(base, 1, good))));  // reported once: later reads are clean
  CHECK(contains(error_message([&] { read(kernel::scatter_add(base, 1, bad, src)); }), "scatter_add"));
  CHECK(contains(error_message([&] {
                   read(kernel::index_add(base, 1, from_indices({0, 5}, {2}).to(gpu), src));
                 }),
                 "index_add: an index is out of range for axis 1"));
  CHECK(contains(error_message([&] {
                   read(kernel::index_select(base, 0, from_indices({2, 3}, {2}).to(gpu)));
                 }),
                 "index_select: an index is out of range for axis 0"));
  // The first failure since the last read is the one named; cuda_synchronize raises it too.
  kernel::scatter_add(base, 1, bad, src);
  kernel::gather(base, 1, bad);
  message = error_message([] { cuda_synchronize(); });
  CHECK(contains(message, "scatter_add"));
  CHECK(!contains(message, "gather"));
}

TEST_CASE("device FFTs (cuFFT) and Fourier filters agree with the CPU, odd and even lengths") {
  if (!cuda_device_present()) return;
  std::uint64_t seed = 180;
  for (DType dtype : {DType::f32, DType::f64}) {
    const double tol = dtype == DType::f32 ? 2e-6 : 1e-12;
    for (std::int64_t n : {8, 7}) {
      CAPTURE(n);
      const Tensor x = random_tensor({3, 6, n}, dtype, ++seed);
      check_op([](const std::vector<Tensor>& in) { return kernel::rfft(in[0]); }, {x}, tol);
      check_op([](const std::vector<Tensor>& in) { return kernel::rfft2(in[0]); }, {x}, tol);
      // Spectra that are not Hermitian-consistent: the self-mirrored bins act through their real parts.
      const Tensor real_part = random_tensor({3, 6, n / 2 + 1}, DType::f64, ++seed);
      const Tensor imaginary_part = random_tensor({3, 6, n / 2 + 1}, DType::f64, ++seed);
      const Tensor spectrum =
          cast(add(cast(real_part, DType::c128), mul(cast(imaginary_part, DType::c128), imaginary_unit())),
               dtype == DType::f32 ? DType::c64 : DType::c128);
      check_op([n](const std::vector<Tensor>& in) { return kernel::irfft(in[0], n); }, {spectrum}, tol);
      check_op([n](const std::vector<Tensor>& in) { return kernel::irfft2(in[0], n); }, {spectrum}, tol);
      // A real multiplier shared by the batch and a complex one per example (a derivative, i·k).
      const Tensor real_multiplier = random_tensor({6, n / 2 + 1}, DType::f64, ++seed);
      const Tensor complex_multiplier = spectrum;
      check_op([](const std::vector<Tensor>& in) { return kernel::fourier_filter(in[0], in[1], 2); },
               {x, real_multiplier}, tol * 10);
      check_op([](const std::vector<Tensor>& in) { return kernel::fourier_filter(in[0], in[1], 1); },
               {x, complex_multiplier}, tol * 10);
    }
  }
  // A differentiable heat step: its gradient on the device, with the multiplier made on the CPU.
  const Tensor u = random_tensor({2, 8, 8}, DType::f64, 190);
  const Tensor damping = exp(random_tensor({8, 5}, DType::f64, 191, -1.0, 0.0));
  const auto loss = [&damping](const Tensor& v) { return sum(square(fourier_filter(v, damping, 2)) * v); };
  check_agrees(grad(loss, u.to(gpu)), grad(loss, u), 1e-12);
  // A complex multiplier's adjoint is its conjugate, taken on the device.
  const Tensor derivative = cast(random_tensor({5}, DType::f64, 192), DType::c128) * imaginary_unit();
  const auto complex_loss = [&derivative](const Tensor& v) {
    return sum(square(fourier_filter(v, derivative.to(v.device()), 1)) * v);
  };
  check_agrees(grad(complex_loss, u.to(gpu)), grad(complex_loss, u), 1e-12);
  for (const DType dtype : {DType::c64, DType::c128}) {
    const Tensor z = cast(derivative + random_tensor({5}, DType::f64, 193), dtype);
    check_agrees(kernel::conj(z.to(gpu)), kernel::conj(z), 0.0);
  }
}

TEST_CASE("a network on the device saves and loads like one on the CPU") {
  if (!cuda_device_present()) return;
  Generator gen(200), other(201);
  const auto on_device = nn::make_mlp(3, {5}, 2, gen, {}, DType::f64);
  on_device->to(gpu);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("dphys_cuda_tests_" + std::to_string(::getpid()) + ".bin"))
          .string();
  nn::save_parameters(path, *on_device);
  // Loaded into a CPU network and back into a device one: both copies cross devices.
  const auto on_cpu = nn::make_mlp(3, {5}, 2, other, {}, DType::f64);
  nn::load_parameters(path, *on_cpu);
  const auto reloaded = nn::make_mlp(3, {5}, 2, other, {}, DType::f64);
  reloaded->to(gpu);
  nn::load_parameters(path, *reloaded);
  const auto a = on_device->parameters(), b = on_cpu->parameters(), c = reloaded->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(b[i].device() == Device::cpu());
    CHECK(c[i].device() == gpu);
    CHECK(test::max_abs_diff(a[i].to(Device::cpu()), b[i]) == 0.0);
    CHECK(test::max_abs_diff(c[i].to(Device::cpu()), b[i]) == 0.0);
  }
  std::filesystem::remove(path);
}

TEST_CASE("ops without a device kernel, and complex arithmetic on the device, say so") {
  if (!cuda_device_present()) return;
  const Tensor x = random_tensor({8}, DType::f64, 80).to(gpu);
  const Tensor z = cast(random_tensor({4}, DType::f64, 81), DType::c128).to(gpu);
  const std::string message = error_message([&] { exp(z); });
  CHECK(contains(message, "c128"));
  CHECK(contains(message, "cuda:0"));
  CHECK(contains(error_message([&] { add(x, random_tensor({8}, DType::f64, 82)); }), "different devices"));
  // A cotangent on another device than its root is refused before any kernel reads it.
  const Tensor leaf = random_tensor({8}, DType::f64, 84).to(gpu).requires_grad_();
  CHECK(contains(error_message([&] { backward(square(leaf), ones({8}, DType::f64)); }), "cotangent on cpu"));
}
