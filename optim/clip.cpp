#include "optim/clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/grad_mode.h"
#include "autodiff/ops.h"

namespace dphys::optim {

namespace {

// The Euclidean norm of values[0, n). Where the plain sum of squares is not a normal number (entries beyond
// ~1e154 overflow it, entries below ~1e-154 underflow it), it is taken relative to the largest entry.
double scaled_norm(const double* values, std::size_t n) {
  double squares = 0.0;
  for (std::size_t i = 0; i < n; ++i) squares += values[i] * values[i];
  if (std::isnormal(squares) || std::isnan(squares)) return std::sqrt(squares);
  double largest = 0.0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, std::abs(values[i]));
  if (largest == 0) return 0.0;
  double relative = 0.0;
  for (std::size_t i = 0; i < n; ++i) relative += (values[i] / largest) * (values[i] / largest);
  return largest * std::sqrt(relative);
}

}  // namespace

double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm) {
  DPHYS_CHECK(std::isfinite(max_norm) && max_norm >= 0.0,
              "clip_grad_norm: max_norm {} must be finite and >= 0", max_norm);
  NoGradGuard no_grad;
  // Norms past ~1e154 overflow their squares: the total came out Inf and every gradient was zeroed
  // instead of scaled. Where a square is not a normal number, the norm is taken relative to the largest.
  const auto relative_norm = [](const Tensor& g) {
    const double largest = max(abs(g)).item();
    return largest > 0 ? largest * norm(g / largest).item() : 0.0;
  };
  std::vector<double> norms;
  for (const Tensor& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const double n = norm(g).item();
    norms.push_back(std::isnormal(n * n) || std::isnan(n) ? n : relative_norm(g));
  }
  const double total = scaled_norm(norms.data(), norms.size());
  // PyTorch's coefficient: the 1e-6 keeps it finite for zero gradients.
  const double coefficient = max_norm / (total + 1e-6);
  if (coefficient < 1.0)
    for (const Tensor& p : parameters)
      if (p.grad().defined()) p.set_grad(p.grad() * coefficient);
  return total;
}

void clip_grad_value(const std::vector<Tensor>& parameters, double clip_value) {
  DPHYS_CHECK(std::isfinite(clip_value) && clip_value >= 0.0,
              "clip_grad_value: clip_value {} must be finite and >= 0", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& p : parameters)
    if (p.grad().defined()) p.set_grad(clamp(p.grad(), -clip_value, clip_value));
}

PercentileClip clip_per_example_percentile(const Tensor& per_example, double quantile) {
  DPHYS_CHECK(
      per_example.dim() >= 1 && per_example.size(0) >= 1,
      "clip_per_example_percentile: expected per-example gradients [N, ...] with N >= 1, got shape {}",
      shape_str(per_example.shape()));
  DPHYS_CHECK(per_example.dtype() == DType::f32 || per_example.dtype() == DType::f64,
              "clip_per_example_percentile: gradients of dtype {} (shape {}); expected f32 or f64",
              dtype_name(per_example.dtype()), shape_str(per_example.shape()));
  DPHYS_CHECK(quantile >= 0.0 && quantile <= 1.0,
              "clip_per_example_percentile: quantile {} must lie in [0, 1]", quantile);
  NoGradGuard no_grad;
  const std::int64_t rows = per_example.size(0);
  const std::int64_t width = per_example.numel() / rows;
  // Sorting N norms is host work; a device input makes one round trip.
  Tensor g = cast(per_example.to(Device::cpu()), DType::f64).clone();
  double* data = g.data<double>();

  std::vector<double> norms(rows, 0.0), finite;
  for (std::int64_t i = 0; i < rows; ++i) {
    double* row = data + i * width;
    const bool ok = std::all_of(row, row + width, [](double v) { return std::isfinite(v); });
    if (!ok) {
      std::fill(row, row + width, 0.0);
      continue;
    }
    // An unscaled norm of entries beyond ~1e154 was Inf, which made τ NaN and every row NaN.
    norms[i] = scaled_norm(row, static_cast<std::size_t>(width));
    if (!std::isfinite(norms[i])) {  // a norm beyond the largest double: the row is dropped like a NaN row
      std::fill(row, row + width, 0.0);
      norms[i] = 0.0;
      continue;
    }
    finite.push_back(norms[i]);
  }

  double tau = 0.0;
  if (!finite.empty()) {
    std::sort(finite.begin(), finite.end());
    const double position = quantile * static_cast<double>(finite.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, finite.size() - 1);
    tau = finite[below] + (position - static_cast<double>(below)) * (finite[above] - finite[below]);
  }
  for (std::int64_t i = 0; i < rows; ++i) {
    if (norms[i] <= tau) continue;
    const double scale = tau / norms[i];
    double* row = data + i * width;
    for (std::int64_t j = 0; j < width; ++j) row[j] *= scale;
  }
  return {cast(g, per_example.dtype()).to(per_example.device()), tau};
}

}  // namespace dphys::optim
