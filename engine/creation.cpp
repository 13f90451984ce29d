#include "engine/creation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/device_dispatch.h"
#include "engine/device_kernels.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/parallel.h"

namespace dphys {

namespace {

void check_shape(const Shape& shape, const char* op) {
  for (auto d : shape) DPHYS_CHECK(d >= 0, "{}: negative size in shape {}", op, shape_str(shape));
}

void check_host_data(std::size_t count, const Shape& shape, const char* op) {
  check_shape(shape, op);
  DPHYS_CHECK(static_cast<std::int64_t>(count) == shape_numel(shape),
              "{}: {} values do not fill shape {} ({} elements)", op, count, shape_str(shape),
              shape_numel(shape));
}

// Fills a real tensor with f(i) for each element index i.
template <class F>
Tensor generate(const Shape& shape, DType dtype, const char* op, F f) {
  check_shape(shape, op);
  Tensor out = Tensor::empty(shape, dtype);
  dispatch_real(dtype, op, [&](auto t) {
    using T = decltype(t);
    T* p = out.data<T>();
    parallel_for(out.numel(), 8, [&](std::int64_t i) { p[i] = static_cast<T>(f(i)); });
  });
  return out;
}

}  // namespace

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  check_shape(shape, "full");
  Tensor out = Tensor::empty(shape, dtype, device);
  kernel::fill(out, value);
  return out;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }
Tensor zeros_like(const Tensor& x) { return zeros(x.shape(), x.dtype(), x.device()); }
Tensor ones_like(const Tensor& x) { return ones(x.shape(), x.dtype(), x.device()); }

Tensor arange(double start, double stop, double step, DType dtype, Device device) {
  DPHYS_CHECK(step != 0.0 && std::isfinite(start) && std::isfinite(stop) && std::isfinite(step),
              "arange: invalid range start={} stop={} step={}", start, stop, step);
  const double elements = std::max(0.0, std::ceil((stop - start) / step));
  DPHYS_CHECK(fits_i64(elements), "arange: start={} stop={} step={} gives {} elements", start, stop, step,
              elements);
  const auto count = static_cast<std::int64_t>(elements);
  if (dtype == DType::i64) {
    std::vector<std::int64_t> values(count);
    for (std::int64_t i = 0; i < count; ++i) values[i] = static_cast<std::int64_t>(start + i * step);
    return from_indices(values, {count}).to(device);
  }
  return generate({count}, dtype, "arange", [=](std::int64_t i) { return start + i * step; }).to(device);
}

Tensor linspace(double start, double stop, std::int64_t count, DType dtype, Device device) {
  DPHYS_CHECK(count >= 0, "linspace: negative count {}", count);
  const double step = count > 1 ? (stop - start) / static_cast<double>(count - 1) : 0.0;
  return generate({count}, dtype, "linspace",
                  [=](std::int64_t i) { return i == count - 1 ? stop : start + i * step; })
      .to(device);
}

Tensor from_vector(const std::vector<double>& data, const Shape& shape, DType dtype, Device device) {
  check_host_data(data.size(), shape, "from_vector");
  Tensor out = Tensor::empty(shape, dtype);
  if (dtype == DType::i64)
    for (std::size_t i = 0; i < data.size(); ++i)
      DPHYS_CHECK(fits_i64(data[i]),
                  "from_vector: value {} (element {}) has no i64 value: NaN, Inf or beyond 2^63", data[i], i);
  dispatch_all(dtype, "from_vector", [&](auto t) {
    using T = decltype(t);
    T* p = out.data<T>();
    for (std::size_t i = 0; i < data.size(); ++i) p[i] = static_cast<T>(data[i]);
  });
  return out.to(device);
}

Tensor from_indices(const std::vector<std::int64_t>& data, const Shape& shape, Device device) {
  check_host_data(data.size(), shape, "from_indices");
  Tensor out = Tensor::empty(shape, DType::i64);
  std::copy(data.begin(), data.end(), out.data<std::int64_t>());
  return out.to(device);
}

// Everything a draw checks, before it advances the generator: a rejected call leaves the stream as it was.
void check_draw(const char* op, const Shape& shape, DType dtype) {
  check_shape(shape, op);
  DPHYS_CHECK(dtype == DType::f32 || dtype == DType::f64, "{}: draws are f32 or f64, not {}", op,
              dtype_name(dtype));
}

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype, Device device) {
  DPHYS_CHECK(low <= high, "uniform: low {} exceeds high {}", low, high);
  // Beyond these the draws are not in [low, high): an infinite or overflowing width gave all values equal
  // to high (or ±inf in f32).
  const double largest =
      dtype == DType::f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  DPHYS_CHECK(std::abs(low) <= largest && std::abs(high) <= largest && std::isfinite(high - low),
              "uniform: the range [{}, {}) is not finite in {}", low, high, dtype_name(dtype));
  check_draw("uniform", shape, dtype);
  const std::uint64_t seed = gen.seed(), start = gen.advance(shape_numel(shape));
  // Rounding a double draw just below `high` to f32 can give `high` itself; keep the interval half-open.
  const double top = dtype == DType::f32 && low < high
                         ? std::nextafter(static_cast<float>(high), static_cast<float>(low))
                         : high;
  if (!device.is_cpu()) {
    check_shape(shape, "uniform");
    Tensor out = Tensor::empty(shape, dtype, device);
    check_device_dtype("uniform", out);
    device_kernel::random_fill(device_kernel::Distribution::uniform, dtype, out.numel(), seed, start, low,
                               high, top, device_address(out));
    return out;
  }
  return generate(shape, dtype, "uniform",
                  [=](std::int64_t i) { return Generator::uniform_element(seed, start, i, low, high, top); });
}

Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype, Device device) {
  DPHYS_CHECK(stddev >= 0.0, "normal: negative standard deviation {}", stddev);
  DPHYS_CHECK(std::isfinite(mean) && std::isfinite(stddev),
              "normal: mean {} and standard deviation {} must be finite", mean, stddev);
  check_draw("normal", shape, dtype);
  const std::uint64_t seed = gen.seed(), start = gen.advance(2 * shape_numel(shape));
  if (!device.is_cpu()) {
    check_shape(shape, "normal");
    Tensor out = Tensor::empty(shape, dtype, device);
    check_device_dtype("normal", out);
    device_kernel::random_fill(device_kernel::Distribution::normal, dtype, out.numel(), seed, start, mean,
                               stddev, 0.0, device_address(out));
    return out;
  }
  return generate(shape, dtype, "normal",
                  [=](std::int64_t i) { return Generator::normal_element(seed, start, i, mean, stddev); });
}

}  // namespace dphys
