// Shape and indexing ops. Slicing, padding, rolling and flipping are all per-axis index maps (one kernel and
// its adjoint in engine/layout), so they share one differentiable primitive pair below.
#include <algorithm>
#include <numeric>

#include "autodiff/node.h"
#include "autodiff/ops.h"
#include "engine/layout.h"

namespace dphys {

using Grads = std::vector<Tensor>;
using kernel::AxisMaps;

namespace {

using SharedMaps = std::shared_ptr<const AxisMaps>;

Tensor axis_map_adjoint(const char* name, const Tensor& g, const SharedMaps& maps, const Shape& shape);

// out[i...] = x[maps[0][i0], ...] (fill where a map says -1); `name` is the public op, for error messages.
Tensor axis_map(const char* name, const Tensor& x, const SharedMaps& maps, double fill) {
  Tensor out = kernel::axis_map_gather(x, *maps, fill);
  if (!needs_grad(x)) return out;
  return record(name, {x}, out, [name, maps, shape = x.shape()](const Tensor& g, const Tensor&) {
    return Grads{axis_map_adjoint(name, g, maps, shape)};
  });
}

Tensor axis_map_adjoint(const char* name, const Tensor& g, const SharedMaps& maps, const Shape& shape) {
  Tensor out = kernel::axis_map_scatter_add(g, *maps, shape);
  if (!needs_grad(g)) return out;
  return record(name, {g}, out, [name, maps](const Tensor& gg, const Tensor&) {
    return Grads{axis_map(name, gg, maps, 0.0)};
  });
}

std::vector<std::int64_t> identity_map(std::int64_t n) {
  std::vector<std::int64_t> m(n);
  std::iota(m.begin(), m.end(), 0);
  return m;
}

AxisMaps identity_maps(const Shape& shape) {
  AxisMaps maps;
  for (auto n : shape) maps.push_back(identity_map(n));
  return maps;
}

// Replaces the map of one axis and applies it.
Tensor remap_axis(const char* name, const Tensor& x, int axis, std::vector<std::int64_t> map) {
  AxisMaps maps = identity_maps(x.shape());
  maps[axis] = std::move(map);
  return axis_map(name, x, std::make_shared<const AxisMaps>(std::move(maps)), 0.0);
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor out = kernel::reshape(x, shape);
  if (!needs_grad(x)) return out;
  return record("reshape", {x}, out,
                [from = x.shape()](const Tensor& g, const Tensor&) { return Grads{reshape(g, from)}; });
}

Tensor flatten(const Tensor& x) { return reshape(x, {x.numel()}); }

Tensor unsqueeze(const Tensor& x, int axis) {
  axis = normalize_axis(axis, x.dim() + 1, "unsqueeze", x.shape());
  Shape shape = x.shape();
  shape.insert(shape.begin() + axis, 1);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int axis) {
  axis = normalize_axis(axis, x.dim(), "squeeze", x.shape());
  DPHYS_CHECK(x.shape()[axis] == 1, "squeeze: axis {} of shape {} has size {}, expected 1", axis,
              shape_str(x.shape()), x.shape()[axis]);
  Shape shape = x.shape();
  shape.erase(shape.begin() + axis);
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  Tensor out = kernel::permute(x, perm);
  if (!needs_grad(x)) return out;
  std::vector<int> inverse(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d)
    inverse[normalize_axis(perm[d], x.dim(), "permute", x.shape())] = static_cast<int>(d);
  return record("permute", {x}, out,
                [inverse](const Tensor& g, const Tensor&) { return Grads{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int axis0, int axis1) {
  std::vector<int> perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis(axis0, x.dim(), "transpose", x.shape())],
            perm[normalize_axis(axis1, x.dim(), "transpose", x.shape())]);
  return permute(x, perm);
}

Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step) {
  axis = normalize_axis(axis, x.dim(), "slice", x.shape());
  DPHYS_CHECK(step > 0, "slice: step must be positive, got {} (shape {})", step, shape_str(x.shape()));
  const std::int64_t n = x.shape()[axis];
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  DPHYS_CHECK(start >= 0 && start <= n && stop <= n,
              "slice: range [{}, {}) is out of bounds for axis {} of shape {}", start, stop, axis,
              shape_str(x.shape()));
  std::vector<std::int64_t> map;
  // Stepping stops before i + step could pass INT64_MAX (a huge step overflowed into more elements).
  for (std::int64_t i = start; i < stop; i = step < stop - i ? i + step : stop) map.push_back(i);
  return remap_axis("slice", x, axis, std::move(map));
}

Tensor flip(const Tensor& x, int axis) {
  axis = normalize_axis(axis, x.dim(), "flip", x.shape());
  const std::int64_t n = x.shape()[axis];
  std::vector<std::int64_t> map(n);
  for (std::int64_t i = 0; i < n; ++i) map[i] = n - 1 - i;
  return remap_axis("flip", x, axis, std::move(map));
}

Tensor roll(const Tensor& x, std::int64_t shift, int axis) {
  axis = normalize_axis(axis, x.dim(), "roll", x.shape());
  const std::int64_t n = x.shape()[axis];
  std::vector<std::int64_t> map(n);
  const std::int64_t reduced = n == 0 ? 0 : shift % n;  // so that i − shift cannot overflow (INT64_MIN)
  for (std::int64_t i = 0; i < n; ++i) map[i] = ((i - reduced) % n + n) % n;
  return remap_axis("roll", x, axis, std::move(map));
}

Tensor pad(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& widths, PadMode mode,
           double value) {
  DPHYS_CHECK(static_cast<int>(widths.size()) == x.dim(), "pad: {} (before, after) pairs for shape {}",
              widths.size(), shape_str(x.shape()));
  AxisMaps maps;
  for (int d = 0; d < x.dim(); ++d) {
    const auto [before, after] = widths[d];
    const std::int64_t n = x.shape()[d];
    DPHYS_CHECK(before >= 0 && after >= 0, "pad: negative width ({}, {}) on axis {} of shape {}", before,
                after, d, shape_str(x.shape()));
    DPHYS_CHECK(n > 0 || mode == PadMode::constant || before + after == 0,
                "pad: periodic and edge padding need a non-empty axis, axis {} of shape {}", d,
                shape_str(x.shape()));
    std::vector<std::int64_t> map(n + before + after);
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(map.size()); ++i) {
      const std::int64_t j = i - before;
      switch (mode) {
        case PadMode::constant:
          map[i] = j >= 0 && j < n ? j : -1;
          break;
        case PadMode::periodic:
          map[i] = (j % n + n) % n;
          break;
        case PadMode::edge:
          map[i] = std::clamp<std::int64_t>(j, 0, n - 1);
          break;
      }
    }
    maps.push_back(std::move(map));
  }
  return axis_map("pad", x, std::make_shared<const AxisMaps>(std::move(maps)), value);
}

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  Tensor out = kernel::index_select(x, axis, index);
  if (!needs_grad(x)) return out;
  axis = normalize_axis(axis, x.dim(), "index_select", x.shape());
  return record("index_select", {x}, out,
                [axis, si = Saved(index), shape = x.shape()](const Tensor& g, const Tensor&) {
                  return Grads{index_add(zeros(shape, g.dtype(), g.device()), axis, si.get(), g)};
                });
}

Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  Tensor out = kernel::gather(x, axis, index);
  if (!needs_grad(x)) return out;
  return record("gather", {x}, out,
                [axis, si = Saved(index), shape = x.shape()](const Tensor& g, const Tensor&) {
                  return Grads{scatter_add(zeros(shape, g.dtype(), g.device()), axis, si.get(), g)};
                });
}

Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  Tensor out = kernel::scatter_add(base, axis, index, src);
  if (!needs_grad(base, src)) return out;
  return record("scatter_add", {base, src}, out, [axis, si = Saved(index)](const Tensor& g, const Tensor&) {
    return Grads{g, gather(g, axis, si.get())};
  });
}

Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  Tensor out = kernel::index_add(base, axis, index, src);
  if (!needs_grad(base, src)) return out;
  return record("index_add", {base, src}, out, [axis, si = Saved(index)](const Tensor& g, const Tensor&) {
    return Grads{g, index_select(g, axis, si.get())};
  });
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  Tensor out = kernel::concat(xs, axis);
  if (!needs_grad(xs)) return out;
  axis = normalize_axis(axis, xs.front().dim(), "concat");
  std::vector<std::int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.shape()[axis]);
  return record("concat", xs, out, [axis, sizes](const Tensor& g, const Tensor&) {
    Grads grads;
    std::int64_t start = 0;
    for (auto n : sizes) {
      grads.push_back(slice(g, axis, start, start + n));
      start += n;
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int axis) {
  DPHYS_CHECK(!xs.empty(), "stack: no tensors given");
  axis = normalize_axis(axis, xs.front().dim() + 1, "stack", xs.front().shape());
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    DPHYS_CHECK(x.shape() == xs.front().shape(), "stack: shapes {} and {} differ",
                shape_str(xs.front().shape()), shape_str(x.shape()));
    expanded.push_back(unsqueeze(x, axis));
  }
  return concat(expanded, axis);
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor out = x.to(device);
  if (!needs_grad(x)) return out;
  return record("to_device", {x}, out, [source = x.device()](const Tensor& g, const Tensor&) {
    return Grads{to_device(g, source)};
  });
}

}  // namespace dphys
