#include "engine/layout.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "engine/broadcast_loop.h"
#include "engine/constant_cache.h"
#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/device_memory.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

// out[i] = x[Σ coordinate · in_strides] over out's shape, on x's device.
void copy_through_strides(const char* op, const Tensor& x, const Tensor& out, const Shape& in_strides) {
  device_kernel::strided_copy(
      dtype_size(x.dtype()),
      device_indexing<2>(op, out.shape(), {in_strides, contiguous_strides(out.shape())}), device_address(x),
      device_address(out));
}

// The per-axis maps one after another on `device`, and where each starts, for the device axis-map kernels.
Tensor upload_maps(const AxisMaps& maps, const Shape& out_shape, const Shape& x_shape, Device device,
                   device_kernel::AxisMapIndexing& index) {
  DPHYS_CHECK(maps.size() <= static_cast<std::size_t>(device_kernel::kMaxDims),
              "axis maps: {} axes; the device kernels take at most {}", maps.size(), device_kernel::kMaxDims);
  std::vector<std::int64_t> joined;
  const Shape x_strides = contiguous_strides(x_shape);
  index.ndim = static_cast<int>(maps.size());
  for (int d = 0; d < index.ndim; ++d) {
    index.out_shape[d] = out_shape[d];
    index.x_strides[d] = x_strides[d];
    index.map_start[d] = static_cast<std::int64_t>(joined.size());
    joined.insert(joined.end(), maps[d].begin(), maps[d].end());
  }
  // Layout ops repeat the same maps every step: keep each on the device (engine/constant_cache.h) rather than
  // copying it from the host on every call. The key holds the maps' bytes: exact, and cheaper than text.
  std::string key = "axis maps ";
  key.append(reinterpret_cast<const char*>(joined.data()), joined.size() * sizeof(std::int64_t));
  return cached_constant(key, device,
                         [&] { return from_indices(joined, {static_cast<std::int64_t>(joined.size())}); });
}

}  // namespace

Tensor reshape(const Tensor& x, Shape shape) {
  std::int64_t known = 1;
  int inferred = -1;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (shape[d] == -1) {
      DPHYS_CHECK(inferred < 0, "reshape: more than one -1 in target shape {}", shape_str(shape));
      inferred = d;
    } else {
      DPHYS_CHECK(shape[d] >= 0, "reshape: negative size in target shape {}", shape_str(shape));
      known *= shape[d];
    }
  }
  if (inferred >= 0) {
    DPHYS_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape {} ({} elements) to {}",
                shape_str(x.shape()), x.numel(), shape_str(shape));
    shape[inferred] = x.numel() / known;
  }
  DPHYS_CHECK(shape_numel(shape) == x.numel(), "reshape: cannot reshape {} ({} elements) to {} ({} elements)",
              shape_str(x.shape()), x.numel(), shape_str(shape), shape_numel(shape));
  return Tensor(
      std::make_shared<TensorImpl>(TensorImpl{std::move(shape), x.dtype(), x.storage(), nullptr, nullptr}));
}

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  const int ndim = x.dim();
  DPHYS_CHECK(static_cast<int>(perm.size()) == ndim, "permute: permutation [{}] does not match shape {}",
              fmt::join(perm, ", "), shape_str(x.shape()));
  std::vector<int> axes;
  for (int p : perm) axes.push_back(normalize_axis(p, ndim, "permute", x.shape()));
  std::vector<int> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  for (int d = 0; d < ndim; ++d)
    DPHYS_CHECK(sorted[d] == d, "permute: [{}] is not a permutation of the {} axes of shape {}",
                fmt::join(perm, ", "), ndim, shape_str(x.shape()));
  Shape out_shape(ndim), in_strides = contiguous_strides(x.shape()), strides(ndim);
  for (int d = 0; d < ndim; ++d) {
    out_shape[d] = x.shape()[axes[d]];
    strides[d] = in_strides[axes[d]];
  }
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    copy_through_strides("permute", x, out, strides);
    return out;
  }
  dispatch_by_size(x.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* in = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    for_each_broadcast<1>(out_shape, {strides},
                          [&](std::int64_t i, const std::array<std::int64_t, 1>& off) { o[i] = in[off[0]]; });
  });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  DPHYS_CHECK(x.dim() <= static_cast<int>(shape.size()) &&
                  broadcast_shapes(x.shape(), shape, "broadcast_to") == shape,
              "broadcast_to: cannot broadcast shape {} to {}", shape_str(x.shape()), shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    copy_through_strides("broadcast_to", x, out, broadcast_strides(x.shape(), shape));
    return out;
  }
  dispatch_by_size(x.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* in = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    for_each_broadcast<1>(shape, {broadcast_strides(x.shape(), shape)},
                          [&](std::int64_t i, const std::array<std::int64_t, 1>& off) { o[i] = in[off[0]]; });
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  DPHYS_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs.front();
  axis = normalize_axis(axis, first.dim(), "concat", first.shape());
  Shape out_shape = first.shape();
  out_shape[axis] = 0;
  for (const Tensor& x : xs) {
    check_same_device("concat", first, x);
    DPHYS_CHECK(x.dtype() == first.dtype(), "concat: dtypes {} and {} differ (shapes {} and {})",
                dtype_name(first.dtype()), dtype_name(x.dtype()), shape_str(first.shape()),
                shape_str(x.shape()));
    bool compatible = x.dim() == first.dim();
    for (int d = 0; compatible && d < first.dim(); ++d)
      compatible = d == axis || x.shape()[d] == first.shape()[d];
    DPHYS_CHECK(compatible, "concat: shapes {} and {} differ outside axis {}", shape_str(first.shape()),
                shape_str(x.shape()), axis);
    out_shape[axis] += x.shape()[axis];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  std::int64_t outer = 1, inner = dtype_size(first.dtype());
  for (int d = 0; d < axis; ++d) outer *= out_shape[d];
  for (int d = axis + 1; d < first.dim(); ++d) inner *= out_shape[d];
  const std::int64_t out_row = out_shape[axis] * inner;
  if (!out.device().is_cpu()) {
    // Each input is a strided copy into its slab of the output: out's strides, shifted along `axis`.
    const Shape out_strides = contiguous_strides(out_shape);
    std::int64_t start = 0;
    for (const Tensor& x : xs) {
      char* slab =
          static_cast<char*>(device_address(out)) + start * out_strides[axis] * dtype_size(x.dtype());
      device_kernel::strided_copy(
          dtype_size(x.dtype()),
          device_indexing<2>("concat", x.shape(), {contiguous_strides(x.shape()), out_strides}),
          device_address(x), slab);
      start += x.shape()[axis];
    }
    return out;
  }
  std::int64_t offset = 0;
  for (const Tensor& x : xs) {
    const std::int64_t row = x.shape()[axis] * inner;
    const char* in = static_cast<const char*>(x.raw_data());
    char* o = static_cast<char*>(out.raw_data()) + offset;
    for (std::int64_t r = 0; r < outer; ++r) std::memcpy(o + r * out_row, in + r * row, row);
    offset += row;
  }
  return out;
}

Tensor axis_map_gather(const Tensor& x, const AxisMaps& maps, double fill) {
  DPHYS_CHECK(static_cast<int>(maps.size()) == x.dim(), "axis_map_gather: {} maps for shape {}", maps.size(),
              shape_str(x.shape()));
  Shape out_shape;
  for (const auto& m : maps) out_shape.push_back(static_cast<std::int64_t>(m.size()));
  DPHYS_CHECK(x.dtype() != DType::i64 || fits_i64(fill),
              "axis_map_gather: the fill value {} has no i64 value (padding an i64 tensor of shape {})", fill,
              shape_str(x.shape()));
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (!x.device().is_cpu()) {
    check_device_dtype("axis_map_gather", x, true);
    device_kernel::AxisMapIndexing index;
    const Tensor joined = upload_maps(maps, out_shape, x.shape(), x.device(), index);
    device_kernel::axis_map_gather(x.dtype(), index, device_data<std::int64_t>(joined), fill,
                                   device_address(x), device_address(out));
    return out;
  }
  const Shape strides = contiguous_strides(x.shape());
  const int ndim = x.dim();
  dispatch_all(x.dtype(), "axis_map_gather", [&](auto t) {
    using T = decltype(t);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const T fill_value = static_cast<T>(fill);
    if (ndim == 0) {
      o[0] = in[0];
      return;
    }
    const std::int64_t row = out_shape[ndim - 1];
    const auto& last = maps[ndim - 1];
    parallel_for(out.numel() / row, row, [&](std::int64_t r) {
      std::int64_t base = 0, rest = r;
      bool outside = false;
      for (int d = ndim - 2; d >= 0; --d) {
        const std::int64_t src = maps[d][rest % out_shape[d]];
        rest /= out_shape[d];
        outside = outside || src < 0;
        base += src * strides[d];
      }
      T* dst = o + r * row;
      for (std::int64_t j = 0; j < row; ++j)
        dst[j] = outside || last[j] < 0 ? fill_value : in[base + last[j]];
    });
  });
  return out;
}

namespace {

// Whether a map sends at most one output index to each source index (ignoring -1, the fill marker).
bool injective(const std::vector<std::int64_t>& map, std::int64_t sources) {
  std::vector<char> seen(sources, 0);
  for (std::int64_t v : map) {
    if (v < 0) continue;
    if (seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

}  // namespace

Tensor axis_map_scatter_add(const Tensor& g, const AxisMaps& maps, const Shape& shape) {
  DPHYS_CHECK(static_cast<int>(maps.size()) == g.dim() && shape.size() == maps.size(),
              "axis_map_scatter_add: {} maps for gradient shape {} and target shape {}", maps.size(),
              shape_str(g.shape()), shape_str(shape));
  Tensor out = Tensor::empty(shape, g.dtype(), g.device());
  fill(out, 0.0);
  if (!g.device().is_cpu()) {
    check_device_dtype("axis_map_scatter_add", g);
    device_kernel::AxisMapIndexing index;
    const Tensor joined = upload_maps(maps, g.shape(), shape, g.device(), index);
    device_kernel::axis_map_scatter_add(g.dtype(), index, device_data<std::int64_t>(joined),
                                        device_address(g), device_address(out));
    return out;
  }
  const Shape strides = contiguous_strides(shape);
  const Shape g_shape = g.shape();
  const int ndim = g.dim();
  dispatch_floating(g.dtype(), "axis_map_scatter_add", [&](auto t) {
    using T = decltype(t);
    const T* in = g.data<T>();
    T* o = out.data<T>();
    // Several outputs may map to one source (periodic padding, edges), so threads may only split the work
    // along leading axes whose maps hit each source at most once: their slabs write disjoint memory.
    int lead = 0;
    while (lead < ndim && injective(maps[lead], shape[lead])) ++lead;
    std::int64_t slabs = 1;
    for (int d = 0; d < lead; ++d) slabs *= g_shape[d];
    const std::int64_t per_slab = slabs == 0 ? 0 : g.numel() / slabs;
    const auto scatter_slab = [&](std::int64_t slab) {
      std::vector<std::int64_t> index(ndim, 0);
      for (std::int64_t d = lead - 1, rest = slab; d >= 0; --d) {
        index[d] = rest % g_shape[d];
        rest /= g_shape[d];
      }
      const T* values = in + slab * per_slab;  // a slab is contiguous in g
      for (std::int64_t i = 0; i < per_slab; ++i) {
        std::int64_t dst = 0;
        bool outside = false;
        for (int d = 0; d < ndim; ++d) {
          const std::int64_t src = maps[d][index[d]];
          outside = outside || src < 0;
          dst += src * strides[d];
        }
        if (!outside) o[dst] += values[i];
        for (int d = ndim - 1; d >= lead; --d) {
          if (++index[d] < g_shape[d]) break;
          index[d] = 0;
        }
      }
    };
    parallel_for(slabs, per_slab, scatter_slab);
  });
  return out;
}

namespace {

void check_index_tensor(const char* op, const Tensor& x, const Tensor& index) {
  check_same_device(op, x, index);
  DPHYS_CHECK(index.dtype() == DType::i64, "{}: index must be i64, got {} (shape {})", op,
              dtype_name(index.dtype()), shape_str(index.shape()));
}

void check_index_range(const char* op, std::int64_t value, std::int64_t size, int axis, const Shape& shape) {
  DPHYS_CHECK(value >= 0 && value < size, "{}: index {} is out of range for axis {} of shape {}", op, value,
              axis, shape_str(shape));
}

// x viewed as [outer, n, inner] around `axis`.
struct AxisSplit {
  std::int64_t outer = 1, n = 1, inner = 1;
  AxisSplit(const Shape& shape, int axis) {
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    n = shape[axis];
  }
};

// The device kernels check their indices without making the host wait: a bad index raises at the next read
// from the device (device_memory::deferred_check).
KernelCheck index_check(const char* op, int axis, const Shape& shape, Device device) {
  return device_memory::deferred_check(
      device,
      fmt::format("{}: an index is out of range for axis {} of shape {}", op, axis, shape_str(shape)));
}

// index and other must agree on every axis but `axis`.
void check_same_but_axis(const char* op, const Shape& a, const Shape& b, int axis) {
  bool same = a.size() == b.size();
  for (std::size_t d = 0; same && d < a.size(); ++d) same = static_cast<int>(d) == axis || a[d] == b[d];
  DPHYS_CHECK(same, "{}: shapes {} and {} must agree except along axis {}", op, shape_str(a), shape_str(b),
              axis);
}

}  // namespace

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  check_index_tensor("index_select", x, index);
  axis = normalize_axis(axis, x.dim(), "index_select", x.shape());
  DPHYS_CHECK(index.dim() == 1, "index_select: index must be 1-D, got shape {}", shape_str(index.shape()));
  if (!x.device().is_cpu()) {
    // A kernel reading the indices where they are: building an axis map on the host would wait for them.
    check_device_dtype("index_select", x, true);
    Shape out_shape = x.shape();
    out_shape[axis] = index.numel();
    Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
    const AxisSplit xs(x.shape(), axis);
    device_kernel::gather_axis(x.dtype(), xs.outer, xs.n, index.numel(), xs.inner, device_address(x),
                               device_data<std::int64_t>(index), true, device_address(out),
                               index_check("index_select", axis, x.shape(), x.device()));
    return out;
  }
  const std::vector<std::int64_t> idx = index.to_vector<std::int64_t>();
  for (std::int64_t k : idx) check_index_range("index_select", k, x.shape()[axis], axis, x.shape());
  AxisMaps maps;
  for (int d = 0; d < x.dim(); ++d) {
    std::vector<std::int64_t> m(x.shape()[d]);
    for (std::int64_t i = 0; i < x.shape()[d]; ++i) m[i] = i;
    maps.push_back(std::move(m));
  }
  maps[axis] = idx;
  return axis_map_gather(x, maps, 0.0);
}

Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  check_index_tensor("gather", x, index);
  axis = normalize_axis(axis, x.dim(), "gather", x.shape());
  check_same_but_axis("gather", x.shape(), index.shape(), axis);
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  const AxisSplit xs(x.shape(), axis), is(index.shape(), axis);
  if (!x.device().is_cpu()) {
    check_device_dtype("gather", x, true);
    device_kernel::gather_axis(x.dtype(), is.outer, xs.n, is.n, is.inner, device_address(x),
                               device_data<std::int64_t>(index), false, device_address(out),
                               index_check("gather", axis, x.shape(), x.device()));
    return out;
  }
  const std::int64_t* idx = index.data<std::int64_t>();
  dispatch_all(x.dtype(), "gather", [&](auto t) {
    using T = decltype(t);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for (std::int64_t a = 0; a < is.outer; ++a)
      for (std::int64_t k = 0; k < is.n; ++k)
        for (std::int64_t b = 0; b < is.inner; ++b) {
          const std::int64_t at = (a * is.n + k) * is.inner + b;
          check_index_range("gather", idx[at], xs.n, axis, x.shape());
          o[at] = in[(a * xs.n + idx[at]) * xs.inner + b];
        }
  });
  return out;
}

Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  check_index_tensor("scatter_add", base, index);
  check_same_device("scatter_add", base, src);
  axis = normalize_axis(axis, base.dim(), "scatter_add", base.shape());
  DPHYS_CHECK(index.shape() == src.shape(), "scatter_add: index shape {} differs from source shape {}",
              shape_str(index.shape()), shape_str(src.shape()));
  DPHYS_CHECK(base.dtype() == src.dtype(), "scatter_add: dtypes {} and {} differ (shapes {} and {})",
              dtype_name(base.dtype()), dtype_name(src.dtype()), shape_str(base.shape()),
              shape_str(src.shape()));
  check_same_but_axis("scatter_add", base.shape(), src.shape(), axis);
  Tensor out = base.clone();
  const AxisSplit os(base.shape(), axis), is(index.shape(), axis);
  if (!base.device().is_cpu()) {
    check_device_dtype("scatter_add", base);
    device_kernel::scatter_add_axis(base.dtype(), is.outer, os.n, is.n, is.inner, device_address(src),
                                    device_data<std::int64_t>(index), false, device_address(out),
                                    index_check("scatter_add", axis, base.shape(), base.device()));
    return out;
  }
  const std::int64_t* idx = index.data<std::int64_t>();
  dispatch_floating(base.dtype(), "scatter_add", [&](auto t) {
    using T = decltype(t);
    const T* in = src.data<T>();
    T* o = out.data<T>();
    for (std::int64_t a = 0; a < is.outer; ++a)
      for (std::int64_t k = 0; k < is.n; ++k)
        for (std::int64_t b = 0; b < is.inner; ++b) {
          const std::int64_t at = (a * is.n + k) * is.inner + b;
          check_index_range("scatter_add", idx[at], os.n, axis, base.shape());
          o[(a * os.n + idx[at]) * os.inner + b] += in[at];
        }
  });
  return out;
}

Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  check_index_tensor("index_add", base, index);
  check_same_device("index_add", base, src);
  axis = normalize_axis(axis, base.dim(), "index_add", base.shape());
  DPHYS_CHECK(index.dim() == 1 && src.dim() == base.dim() && index.numel() == src.shape()[axis],
              "index_add: a 1-D index of {} entries for a source of shape {} along axis {}", index.numel(),
              shape_str(src.shape()), axis);
  DPHYS_CHECK(base.dtype() == src.dtype(), "index_add: dtypes {} and {} differ (shapes {} and {})",
              dtype_name(base.dtype()), dtype_name(src.dtype()), shape_str(base.shape()),
              shape_str(src.shape()));
  check_same_but_axis("index_add", base.shape(), src.shape(), axis);
  Tensor out = base.clone();
  const AxisSplit os(base.shape(), axis), ss(src.shape(), axis);
  if (!base.device().is_cpu()) {
    check_device_dtype("index_add", base);
    device_kernel::scatter_add_axis(base.dtype(), ss.outer, os.n, ss.n, ss.inner, device_address(src),
                                    device_data<std::int64_t>(index), true, device_address(out),
                                    index_check("index_add", axis, base.shape(), base.device()));
    return out;
  }
  const std::int64_t* idx = index.data<std::int64_t>();
  for (std::int64_t k = 0; k < ss.n; ++k) check_index_range("index_add", idx[k], os.n, axis, base.shape());
  dispatch_floating(base.dtype(), "index_add", [&](auto t) {
    using T = decltype(t);
    const T* in = src.data<T>();
    T* o = out.data<T>();
    // Rows of `outer` are independent; within one, several k may name the same target.
    parallel_for(ss.outer, ss.n * ss.inner, [&](std::int64_t a) {
      for (std::int64_t k = 0; k < ss.n; ++k)
        for (std::int64_t b = 0; b < ss.inner; ++b)
          o[(a * os.n + idx[k]) * os.inner + b] += in[(a * ss.n + k) * ss.inner + b];
    });
  });
  return out;
}

}  // namespace dphys::kernel
