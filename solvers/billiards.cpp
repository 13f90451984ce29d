#include "solvers/billiards.h"

#include <cmath>
#include <limits>

#include "autodiff/ops.h"
#include "engine/value_check.h"

namespace dphys {

namespace {

// A position or velocity as [B, 2]; [2] becomes [1, 2] and broadcasts against the batch.
Tensor as_rows(const Tensor& x, const char* name) {
  DPHYS_CHECK((x.dim() == 1 || x.dim() == 2) && x.shape().back() == 2,
              "billiards: {} must be [B, 2] or [2], got shape {}", name, shape_str(x.shape()));
  return x.dim() == 1 ? unsqueeze(x, 0) : x;
}

// The four inputs as rows with one dtype and one batch size.
std::vector<Tensor> checked_rows(const Tensor& pa, const Tensor& va, const Tensor& pb, const Tensor& vb) {
  std::vector<Tensor> rows{as_rows(pa, "pa"), as_rows(va, "va"), as_rows(pb, "pb"), as_rows(vb, "vb")};
  const DType dtype = pa.dtype();
  std::int64_t batch = 1;
  for (const Tensor& x : rows) {
    DPHYS_CHECK(x.dtype() == dtype && (dtype == DType::f32 || dtype == DType::f64),
                "billiards: pa, va, pb, vb must all be f32 or all f64, got {}, {}, {}, {}",
                dtype_name(pa.dtype()), dtype_name(va.dtype()), dtype_name(pb.dtype()),
                dtype_name(vb.dtype()));
    const std::int64_t b = x.shape()[0];
    DPHYS_CHECK(b >= 1, "billiards: empty batch: pa {}, va {}, pb {}, vb {}", shape_str(pa.shape()),
                shape_str(va.shape()), shape_str(pb.shape()), shape_str(vb.shape()));
    DPHYS_CHECK(b == 1 || batch == 1 || b == batch,
                "billiards: batch sizes differ: pa {}, va {}, pb {}, vb {}", shape_str(pa.shape()),
                shape_str(va.shape()), shape_str(pb.shape()), shape_str(vb.shape()));
    if (b != 1) batch = b;
  }
  return rows;
}

Tensor dot_rows(const Tensor& a, const Tensor& b) { return sum(a * b, {1}); }

}  // namespace

BilliardsCollision billiards_collision(const Tensor& pa_in, const Tensor& va_in, const Tensor& pb_in,
                                       const Tensor& vb_in, const BilliardsConfig& config) {
  DPHYS_CHECK(std::isfinite(config.radius) && config.radius > 0 && std::isfinite(config.drag) &&
                  config.drag > 0 && config.restitution >= 0 && config.restitution <= 1 &&
                  config.grazing_tolerance >= 0,
              "billiards: invalid configuration radius={} drag={} restitution={} grazing_tolerance={}",
              config.radius, config.drag, config.restitution, config.grazing_tolerance);
  const std::vector<Tensor> rows = checked_rows(pa_in, va_in, pb_in, vb_in);
  const Tensor &pa = rows[0], &va = rows[1], &pb = rows[2], &vb = rows[3];
  for (const auto& [x, name] : {std::pair{pa, "pa"}, {va, "va"}, {pb, "pb"}, {vb, "vb"}}) {
    kernel::check_finite(
        x.detach(), fmt::format("billiards: {} of shape {} contains NaN or Inf", name, shape_str(x.shape())));
  }
  const DType dtype = pa.dtype();
  const auto constant = [dtype, device = pa.device()](double value) { return scalar(value, dtype, device); };
  const double contact = 2 * config.radius, mu = config.drag;

  // |Δp + Δv·s|² = (2r)² ⇔ a s² + 2 b s + c = 0 (§7.1).
  const Tensor dp = pa - pb, dv = va - vb;
  const Tensor a = dot_rows(dv, dv), b = dot_rows(dp, dv), c = dot_rows(dp, dp) - contact * contact;
  const Tensor discriminant = b * b - a * c;
  // Starting apart is part of the model; a few ulps of overlap are round-off of a touching start.
  const double ulps = 64 * (dtype == DType::f32 ? std::numeric_limits<float>::epsilon()
                                                : std::numeric_limits<double>::epsilon());
  const double deepest = -min(c.detach()).item();
  DPHYS_CHECK(deepest <= ulps * contact * contact,
              "billiards: the balls overlap at the start (|pa − pb|² is {} below (2r)² = {})", deepest,
              contact * contact);

  // Approaching (Δp·Δv < 0) with a real, non-grazing root. D / (|Δv|²(2r)²) = 1 − (d⊥/2r)², d⊥ the miss
  // distance of the centres' straight lines, measures grazing without units: an absolute bound on D, which
  // scales as length²·speed², would call head-on shots at small lengths or speeds misses. The smaller root is
  // written as c / (−b + √D), which has no cancellation (−b > 0) and no division by a.
  const Tensor approaching =
      lt(b, constant(0.0)) * gt(discriminant, a * (config.grazing_tolerance * contact * contact));
  const Tensor root = sqrt(where(approaching, discriminant, constant(1.0)));
  const Tensor s_root = c / where(approaching, root - b, constant(1.0));
  // Drag stops both balls at s = 1/μ; a root at or beyond it is never reached. Tested as 1 − μs > 0 in the
  // tensors' precision, the factor the time of impact takes the log of (s < 1/μ alone can hold in f32 while
  // 1 − μs rounds to 0).
  const Tensor hit = approaching * gt(1.0 - mu * s_root.detach(), constant(0.0));
  const Tensor s = where(hit, s_root, constant(0.0));
  const Tensor hit_rows = unsqueeze(hit, 1), s_rows = unsqueeze(s, 1);

  BilliardsCollision out;
  out.hit = hit;
  out.s = s;
  out.time = where(hit, -log(1.0 - mu * s) / mu, constant(std::numeric_limits<double>::infinity()));
  out.position_a = pa + va * s_rows;
  out.position_b = pb + vb * s_rows;
  // |pa − pb| ≥ 2r > 0 at contact and at the start (checked above), so this norm is safe.
  const Tensor separation = out.position_a - out.position_b;
  out.normal = separation / sqrt(sum(separation * separation, {1}, true));
  const Tensor slowdown = 1.0 - mu * s_rows;
  out.velocity_a_before = va * slowdown;
  out.velocity_b_before = vb * slowdown;
  const Tensor relative_normal = sum((out.velocity_a_before - out.velocity_b_before) * out.normal, {1}, true);
  const Tensor impulse = hit_rows * ((1 + config.restitution) / 2) * relative_normal * out.normal;
  out.velocity_a_after = out.velocity_a_before - impulse;
  out.velocity_b_after = out.velocity_b_before + impulse;
  return out;
}

BilliardsRest billiards_rest_positions(const Tensor& pa, const Tensor& va, const Tensor& pb, const Tensor& vb,
                                       const BilliardsConfig& config) {
  const BilliardsCollision collision = billiards_collision(pa, va, pb, vb, config);
  return {collision.position_a + collision.velocity_a_after / config.drag,
          collision.position_b + collision.velocity_b_after / config.drag};
}

}  // namespace dphys
