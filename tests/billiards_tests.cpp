// Billiards (jpo.md §7): closed-form impact, conservation laws at a collision, gradients through the time of
// impact, finite values at contact, and the flat no-collision region.
#include <cmath>

#include "solvers/billiards.h"
#include "test_util.h"

using namespace dphys;
using dphys::test::contains;
using dphys::test::error_message;
using dphys::test::finite_difference_gradient;
using dphys::test::max_abs;
using dphys::test::max_abs_diff;

namespace {

Tensor rows(const std::vector<double>& values) {
  return from_vector(values, {static_cast<std::int64_t>(values.size() / 2), 2}, DType::f64);
}

bool all_finite(const Tensor& x) {
  for (double v : cast(x, DType::f64).to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

// The paper's objective for ball b, summed over the batch: Σ‖p_b(∞) − (2, 0.5)‖².
const Function target_loss = [](const std::vector<Tensor>& v) {
  const Tensor target = from_vector({2.0, 0.5}, {2}, DType::f64);
  return sum(square(billiards_rest_positions(v[0], v[1], v[2], v[3]).position_b - target));
};

}  // namespace

TEST_CASE("billiards: a head-on collision matches the hand-computed impact") {
  // Contact after travelling 0.6 = s*; drag leaves speed 1 − s* = 0.4, then ball a keeps (1 − e)/2 of it.
  const BilliardsCollision c = billiards_collision(rows({0, 0}), rows({1, 0}), rows({1, 0}), rows({0, 0}));
  CHECK(c.hit.item() == 1.0);
  CHECK(c.s.item() == doctest::Approx(0.6).epsilon(1e-14));
  CHECK(c.time.item() == doctest::Approx(-std::log(0.4)).epsilon(1e-14));
  CHECK(max_abs_diff(c.normal, rows({-1, 0})) < 1e-15);
  CHECK(max_abs_diff(c.velocity_a_after, rows({0.04, 0})) < 1e-15);
  CHECK(max_abs_diff(c.velocity_b_after, rows({0.36, 0})) < 1e-15);
  const BilliardsRest rest = billiards_rest_positions(rows({0, 0}), rows({1, 0}), rows({1, 0}), rows({0, 0}));
  CHECK(max_abs_diff(rest.position_a, rows({0.64, 0})) < 1e-15);
  CHECK(max_abs_diff(rest.position_b, rows({1.36, 0})) < 1e-15);
}

TEST_CASE("billiards: a collision conserves momentum and scales the normal relative velocity by -e") {
  Generator gen(11);
  const std::int64_t batch = 64;
  const Tensor pa =
      concat({zeros({batch, 1}, DType::f64), uniform({batch, 1}, 0.3, 0.7, gen, DType::f64)}, 1);
  const Tensor va =
      concat({uniform({batch, 1}, 1.5, 3, gen, DType::f64), normal({batch, 1}, 0, 0.1, gen, DType::f64)}, 1);
  const Tensor pb =
      concat({ones({batch, 1}, DType::f64), uniform({batch, 1}, 0.35, 0.65, gen, DType::f64)}, 1);
  const Tensor vb = normal({batch, 2}, 0, 0.3, gen, DType::f64);
  const BilliardsCollision c = billiards_collision(pa, va, pb, vb);
  // A few random shots miss; the conservation laws are checked on the rows that collide.
  const Tensor hit = c.hit, hit_rows = unsqueeze(c.hit, 1);
  REQUIRE(sum(hit).item() >= 48);
  const double momentum_error = max_abs(
      hit_rows * (c.velocity_a_before + c.velocity_b_before - c.velocity_a_after - c.velocity_b_after));
  const Tensor normal_before = sum((c.velocity_a_before - c.velocity_b_before) * c.normal, {1});
  const Tensor normal_after = sum((c.velocity_a_after - c.velocity_b_after) * c.normal, {1});
  const double restitution_error = max_abs(hit * (normal_after + 0.8 * normal_before));
  const Tensor separation = c.position_a - c.position_b;
  const double contact_error = max_abs(hit * (sqrt(sum(separation * separation, {1})) - 0.4));
  // The tangential relative velocity is untouched (smooth balls).
  const Tensor tangent =
      stack({-squeeze(slice(c.normal, 1, 1, 2), 1), squeeze(slice(c.normal, 1, 0, 1), 1)}, 1);
  const double tangent_error = max_abs_diff(sum((c.velocity_a_after - c.velocity_b_after) * tangent, {1}),
                                            sum((c.velocity_a_before - c.velocity_b_before) * tangent, {1}));
  MESSAGE("momentum " << momentum_error << ", restitution " << restitution_error << ", contact distance "
                      << contact_error << ", tangential " << tangent_error);
  CHECK(momentum_error < 1e-12);
  CHECK(restitution_error < 1e-12);
  CHECK(contact_error < 1e-12);
  CHECK(tangent_error < 1e-12);
  CHECK(max_abs(hit * normal_before) > 0.1);
}

TEST_CASE("billiards: gradients through the time of impact match finite differences in f64") {
  // Cue ball from (0, 0.5) as in §7.2; second balls at various heights; every shot hits, none grazes.
  const Tensor pa = rows({0, 0.5, 0, 0.5, 0, 0.5, 0.1, 0.4});
  const Tensor va = rows({1.0, 0.1, 2.0, -0.3, 1.5, 0.4, 3.0, 0.2});
  const Tensor pb = rows({1, 0.6, 1, 0.3, 1, 0.8, 1, 0.45});
  const Tensor vb = rows({0, 0, 0, 0, -0.2, 0.1, 0.3, 0});
  const std::vector<Tensor> inputs{pa, va, pb, vb};
  REQUIRE(sum(billiards_collision(pa, va, pb, vb).hit).item() == 4.0);
  const std::vector<Tensor> grads = grad(target_loss, inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor fd = finite_difference_gradient(target_loss, inputs, i);
    const double error = max_abs_diff(grads[i], fd) / max_abs(fd);
    MESSAGE("input " << i << ": relative error " << error << " (|fd|max " << max_abs(fd) << ")");
    CHECK(error < 1e-6);
  }
}

TEST_CASE("billiards: values and gradients stay finite exactly at contact") {
  // Row 0 starts touching and approaching (s* = 0); row 1 grazes exactly (D = 0, a miss); row 2 stops
  // exactly at contact (s* = 1/μ, a miss); row 3 touches while moving apart.
  const Tensor pa = rows({0, 0, 0, 0, 0, 0, 0, 0});
  const Tensor va = rows({1, 0, 1, 0, 0.6, 0, -1, 0});
  const Tensor pb = rows({0.4, 0, 1, 0.4, 1, 0, 0.4, 0});
  const Tensor vb = rows({0, 0, 0, 0, 0, 0, 0, 0});
  const BilliardsCollision c = billiards_collision(pa, va, pb, vb);
  CHECK(c.hit.to_vector<double>() == std::vector<double>{1, 0, 0, 0});
  CHECK(c.s.to_vector<double>()[0] == 0.0);
  CHECK(c.time.to_vector<double>()[0] == 0.0);
  for (const Tensor& t : {c.normal, c.position_a, c.position_b, c.velocity_a_after, c.velocity_b_after})
    CHECK(all_finite(t));
  const std::vector<Tensor> grads = grad(target_loss, {pa, va, pb, vb});
  for (const Tensor& g : grads) CHECK(all_finite(g));
  // The touching head-on shot transfers (1 + e)/2 of the speed at once.
  CHECK(max_abs_diff(slice(c.velocity_b_after, 0, 0, 1), rows({0.9, 0})) < 1e-15);
}

TEST_CASE("billiards: without a collision the loss is flat and its gradient exactly zero") {
  // Shots that miss (too steep, too slow to reach, or moving away) leave ball b where it is.
  const Tensor pa = rows({0, 0.5, 0, 0.5, 0, 0.5});
  const Tensor va = rows({1.0, 1.0, 0.5, 0.0, -1.0, 0.0});
  const Tensor pb = rows({1, 0.5, 1, 0.5, 1, 0.5});
  const Tensor vb = zeros({3, 2}, DType::f64);
  CHECK(sum(billiards_collision(pa, va, pb, vb).hit).item() == 0.0);
  const std::vector<Tensor> grads = grad(target_loss, {pa, va, pb, vb});
  CHECK(max_abs(grads[0]) == 0.0);
  CHECK(max_abs(grads[1]) == 0.0);
  CHECK(max_abs_diff(finite_difference_gradient(target_loss, {pa, va, pb, vb}, 1),
                     zeros({3, 2}, DType::f64)) == 0.0);
  // Ball b's own position still matters: p_b(∞) = p_b.
  CHECK(max_abs_diff(grads[2], 2.0 * (pb - from_vector({2.0, 0.5}, {2}, DType::f64))) < 1e-15);
}

TEST_CASE("billiards: positions shared by the batch broadcast, and f32 runs") {
  const Tensor va = rows({1.0, 0.1, 1.0, -0.1});
  const Tensor pa = from_vector({0, 0.5}, {2}, DType::f64), vb = zeros({2}, DType::f64);
  const Tensor pb = from_vector({1, 0.5}, {2}, DType::f64);
  const BilliardsRest rest = billiards_rest_positions(pa, va, pb, vb);
  CHECK(rest.position_b.shape() == Shape{2, 2});
  const BilliardsRest rest32 = billiards_rest_positions(cast(pa, DType::f32), cast(va, DType::f32),
                                                        cast(pb, DType::f32), cast(vb, DType::f32));
  CHECK(rest32.position_b.dtype() == DType::f32);
  CHECK(max_abs_diff(rest32.position_b, rest.position_b) < 1e-5);
}

TEST_CASE("billiards: wrong shapes, mixed dtypes and overlapping starts are errors") {
  const Tensor p = rows({0, 0}), v = rows({1, 0}), far = rows({1, 0});
  CHECK(contains(error_message([&] {
                   billiards_collision(zeros({1, 3}, DType::f64), v, far, v);
                 }),
                 "pa must be [B, 2] or [2], got shape [1, 3]"));
  CHECK(contains(error_message([&] { billiards_collision(p, cast(v, DType::f32), far, v); }),
                 "must all be f32 or all f64"));
  CHECK(contains(error_message([&] {
                   billiards_collision(p, rows({1, 0, 1, 0}), far, rows({0, 0, 0, 0, 0, 0}));
                 }),
                 "batch sizes differ"));
  CHECK(contains(error_message([&] {
                   billiards_collision(p, v, rows({0.3, 0}), v);
                 }),
                 "overlap at the start"));
  BilliardsConfig bad;
  bad.drag = 0;
  CHECK(contains(error_message([&] { billiards_collision(p, v, far, v, bad); }), "invalid configuration"));
  bad.drag = INFINITY;
  CHECK(contains(error_message([&] { billiards_collision(p, v, far, v, bad); }), "invalid configuration"));
  CHECK(contains(error_message([&] {
                   billiards_collision(zeros({0, 2}, DType::f64), v, far, v);
                 }),
                 "billiards: empty batch"));
  // Non-finite positions and velocities, which once came back as NaN rows marked "no collision".
  CHECK(contains(error_message([&] {
                   billiards_collision(rows({INFINITY, 0}), v, far, v);
                 }),
                 "billiards: pa of shape [1, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   billiards_collision(p, v, rows({1, -INFINITY}), v);
                 }),
                 "billiards: pb of shape [1, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   billiards_collision(p, rows({NAN, 0}), far, v);
                 }),
                 "billiards: va of shape [1, 2] contains NaN or Inf"));
  CHECK(contains(error_message([&] {
                   billiards_collision(p, v, far, rows({0, INFINITY}));
                 }),
                 "billiards: vb of shape [1, 2] contains NaN or Inf"));
}

TEST_CASE("billiards: grazing is judged without units, so small head-on shots still collide") {
  // A head-on shot at radius 2e-4 and speed 2e-3: D = |Δv|²(2r)² = 6.4e-13, below the spec's absolute
  // bound of 1e-12 on D, which took it for a grazing miss.
  BilliardsConfig small;
  small.radius = 2e-4;
  const BilliardsCollision c =
      billiards_collision(rows({0, 0}), rows({0.002, 0}), rows({0.001, 0}), rows({0, 0}), small);
  CHECK(c.hit.item() == 1.0);
  // Contact at separation 2r: s = (0.001 − 0.0004) / 0.002 = 0.3.
  CHECK(std::abs(c.s.item() - 0.3) < 1e-12);
  // An off-centre shot whose lines pass within (1 − 1e-13)·2r is still a miss: 1 − (d⊥/2r)² ≈ 2e-13.
  const double offset = 0.4 * (1 - 1e-13);
  CHECK(billiards_collision(rows({0, 0}), rows({1, 0}), rows({1, offset}), rows({0, 0})).hit.item() == 0.0);
}

TEST_CASE("billiards: in f32 a root just below 1/μ is a hit only if 1 − μs stays positive") {
  // s* = 0.909090877 and μ = 1.1: s* < 1/μ held in f32 while 1 − μs* rounded to 0, which gave hit = 1 with
  // time = +∞ and a NaN gradient.
  BilliardsConfig config;
  config.drag = 1.1;
  const auto f32 = [](std::vector<double> v) { return cast(rows(v), DType::f32); };
  const Tensor pa = f32({0, 0}), va = f32({1, 0}), pb = f32({0.4 + 0.909090877, 0}), vb = f32({0, 0});
  const BilliardsCollision c = billiards_collision(pa, va, pb, vb, config);
  CHECK(all_finite(c.time) == (c.hit.item() == 1.0));
  const std::vector<Tensor> grads = grad(
      [&](const std::vector<Tensor>& v) {
        return sum(billiards_rest_positions(v[0], v[1], v[2], v[3], config).position_b);
      },
      {pa, va, pb, vb});
  for (const Tensor& g : grads) CHECK(all_finite(g));
  // And a sweep of shots 200 f32 ulps either side of s* = 1/μ: the time is finite exactly where there is a
  // hit.
  float x = 0.4f + 1 / 1.1f;
  for (int k = 0; k < 200; ++k) x = std::nextafter(x, 0.0f);
  for (int k = 0; k <= 400; ++k, x = std::nextafter(x, 2.0f)) {
    const Tensor shifted = f32({x, 0});
    const BilliardsCollision ck = billiards_collision(pa, va, shifted, vb, config);
    CHECK(all_finite(ck.time) == (ck.hit.item() == 1.0));
  }
}
