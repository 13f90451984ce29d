#pragma once
// Two-ball billiards of the JPO paper (../shared/experiments/jpo.md §7.1): equal masses, radius r, linear
// drag dv/dt = −μv, no walls. Between collisions the motion is exact, p(t) = p + v·s(t) with s(t) = (1 −
// e^{−μt})/μ ∈ [0, 1/μ), so both balls move on straight lines in the shared parameter s. Their separation Δp
// + Δv·s is linear in s, so once they separate they never meet again: there is at most one collision, found
// in closed form (event-driven, no time stepping).
//
// Units are the paper's dimensionless lengths and times. Positions and velocities are [B, 2] (x, y) or [2]
// (shared by the whole batch), all f32 or all f64. Ball a is the cue ball, b the struck one.
//
// Gradients are the exact derivatives of the closed-form time of impact and of the impulse, recorded with
// dphys ops (no smoothing, as in the paper):
// - No collision (the balls miss, or drag stops them before they touch): each ball keeps its own motion.
//   With ball b at rest its final position then does not depend on ball a, and its gradient is exactly
//   zero: the paper's flat region (§7.4, Fig. 4a).
// - Grazing contact: the derivative of the time of impact grows like 1/√D as the discriminant
//   D = (Δp·Δv)² − |Δv|²(|Δp|² − 4r²) falls to 0. Contacts with D ≤ grazing_tolerance · |Δv|²(2r)² count as
//   misses. The spec (§7.1 [D]) bounds D itself by 1e-12; relative to |Δv|²(2r)² (0.16 for its r = 0.2 and
//   |Δv| ≈ 1) the bound does not depend on the units, so shots at small lengths or speeds are not taken for
//   grazing. The impulse vanishes at grazing, so positions stay continuous there; only the gradient jumps.
// - Non-finite positions or velocities are errors.
// - Square roots and divisions only see guarded arguments in every branch, so values and gradients stay
//   finite, also exactly at contact (where() sends zero gradient to the unused branch, but 0·∞ is NaN).
#include "engine/tensor.h"

namespace dphys {

struct BilliardsConfig {
  double radius = 0.2;               // r, both balls
  double drag = 1.0;                 // μ, per unit time
  double restitution = 0.8;          // e
  double grazing_tolerance = 1e-12;  // D / (|Δv|²(2r)²) = 1 − (miss distance / 2r)² at or below this: a miss
};

// The collision, per example. Where there is none, the contact fields hold the state at t = 0 and the
// velocities before and after are the initial ones, so `position + velocity_after/μ` is the rest position
// in both cases.
struct BilliardsCollision {
  Tensor hit;                                   // [B]: 1 where the balls collide, else 0; no gradient
  Tensor s;                                     // [B]: s* at impact; 0 without a collision
  Tensor time;                                  // [B]: t* = −ln(1 − μs*)/μ; +∞ without a collision
  Tensor normal;                                // [B, 2]: unit vector from b's centre to a's at contact
  Tensor position_a, position_b;                // [B, 2] at contact
  Tensor velocity_a_before, velocity_b_before;  // [B, 2]: v·(1 − μs*)
  // [B, 2]: v_a − ((1+e)/2)((v_a − v_b)·n)n and v_b + the same; total momentum is unchanged.
  Tensor velocity_a_after, velocity_b_after;
};

// The first (and only) collision of balls starting at pa, pb with velocities va, vb. Overlapping starts
// (|pa − pb| < 2r) are an error.
BilliardsCollision billiards_collision(const Tensor& pa, const Tensor& va, const Tensor& pb, const Tensor& vb,
                                       const BilliardsConfig& config = {});

struct BilliardsRest {
  Tensor position_a, position_b;  // [B, 2] as t → ∞
};

// Where both balls come to rest (§7.1 termination: after the last collision, p + v/μ).
BilliardsRest billiards_rest_positions(const Tensor& pa, const Tensor& va, const Tensor& pb, const Tensor& vb,
                                       const BilliardsConfig& config = {});

}  // namespace dphys
