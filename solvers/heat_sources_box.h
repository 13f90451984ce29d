#pragma once
// The boxes of the SIP heat experiment's sources (solvers/heat_sources.h), computed from an example's
// uniform draws. Shared by the CPU loop and the device kernel (solvers/cuda/heat.cu).
#include <cstdint>

#include "engine/host_device.h"

namespace dphys::heat_sources {

constexpr int kCandidates = 10;
constexpr int kDraws = 1 + 5 * kCandidates;  // the count, then (centre y, centre x, half y, half x, strength)

struct Box {
  double y0, y1, x0, x1, strength;  // strength 0: an inactive candidate
};

DPHYS_HOST_DEVICE inline double clamp(double v, double lo, double hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

// Candidate j of the example whose draws start at `draws`, on an n×n grid of unit cells.
DPHYS_HOST_DEVICE inline Box box(const double* draws, int j, double n) {
  const int active = static_cast<int>(4 + 7 * draws[0]);
  const double* c = draws + 1 + 5 * j;
  const double half_y = 10 * c[2], half_x = 10 * c[3];
  const double cy = clamp(0.1 * n + 0.8 * n * c[0], half_y, n - half_y);
  const double cx = clamp(0.1 * n + 0.8 * n * c[1], half_x, n - half_x);
  return {cy - half_y, cy + half_y, cx - half_x, cx + half_x, j < active ? c[4] : 0.0};
}

// Length of the overlap of the cell [i, i + 1) with [lo, hi).
DPHYS_HOST_DEVICE inline double overlap(std::int64_t i, double lo, double hi) {
  const double top = static_cast<double>(i + 1) < hi ? static_cast<double>(i + 1) : hi;
  const double bottom = static_cast<double>(i) > lo ? static_cast<double>(i) : lo;
  return top - bottom > 0.0 ? top - bottom : 0.0;
}

// Cell (i, k) of one example: Σ_j strength_j × the fraction of the cell inside box j, in candidate order.
DPHYS_HOST_DEVICE inline double cell(const double* draws, double n, std::int64_t i, std::int64_t k) {
  double value = 0.0;
  for (int j = 0; j < kCandidates; ++j) {
    const Box b = box(draws, j, n);
    if (b.strength == 0.0) continue;
    const double wy = overlap(i, b.y0, b.y1);
    if (wy == 0.0) continue;
    value += b.strength * wy * overlap(k, b.x0, b.x1);
  }
  return value;
}

}  // namespace dphys::heat_sources
