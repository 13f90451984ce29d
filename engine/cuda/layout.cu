// Device kernels of engine/layout.cpp: copies through strides, and the axis-map gather and its scatter-add.
#include "engine/cuda/indexing.h"

namespace dphys::device_kernel {

namespace {

// Elements are moved as opaque words of their size.
struct alignas(16) Word16 {
  std::uint64_t low, high;
};

template <class W>
void strided_copy_words(const Indexing<2>& index, const W* in, W* out) {
  for_each("strided_copy", element_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    std::int64_t off[2];
    offsets_of(index, i, off);
    out[off[1]] = in[off[0]];
  });
}

// Offset in x of output element i, or -1 when a map sends it outside x.
DPHYS_HOST_DEVICE std::int64_t mapped_offset(const AxisMapIndexing& index, const std::int64_t* maps,
                                             std::int64_t i) {
  std::int64_t offset = 0;
  bool outside = false;
  for (int d = index.ndim - 1; d >= 0; --d) {
    const std::int64_t coordinate = i % index.out_shape[d];
    i /= index.out_shape[d];
    const std::int64_t source = maps[index.map_start[d] + coordinate];
    outside = outside || source < 0;
    offset += source * index.x_strides[d];
  }
  return outside ? -1 : offset;
}

std::int64_t output_count(const AxisMapIndexing& index) {
  std::int64_t n = 1;
  for (int d = 0; d < index.ndim; ++d) n *= index.out_shape[d];
  return n;
}

template <class T>
void axis_map_gather_typed(const AxisMapIndexing& index, const std::int64_t* maps, T fill, const T* x,
                           T* out) {
  for_each("axis_map_gather", output_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    const std::int64_t offset = mapped_offset(index, maps, i);
    out[i] = offset < 0 ? fill : x[offset];
  });
}

template <class T>
void axis_map_scatter_add_typed(const AxisMapIndexing& index, const std::int64_t* maps, const T* g, T* out) {
  for_each("axis_map_scatter_add", output_count(index), [=] DPHYS_HOST_DEVICE(std::int64_t i) {
    const std::int64_t offset = mapped_offset(index, maps, i);
    if (offset >= 0) atomic_add(out + offset, g[i]);
  });
}

// One index per element (gather), or a 1-D index along the middle axis shared by every outer and inner
// position (index_select).
template <class T>
void gather_typed(const char* kernel, std::int64_t outer, std::int64_t n_x, std::int64_t n_index,
                  std::int64_t inner, const T* x, const std::int64_t* index, bool one_dimensional_index,
                  T* out, KernelCheck check) {
  for_each(kernel, outer * n_index * inner, [=] DPHYS_HOST_DEVICE(std::int64_t at) {
    const std::int64_t a = at / (n_index * inner), b = at % inner;
    const std::int64_t k = index[one_dimensional_index ? (at / inner) % n_index : at];
    if (k < 0 || k >= n_x) {
      check.fail();
      out[at] = T(0);
      return;
    }
    out[at] = x[(a * n_x + k) * inner + b];
  });
}

template <class T>
void scatter_add_typed(std::int64_t outer, std::int64_t n_x, std::int64_t n_index, std::int64_t inner,
                       const T* src, const std::int64_t* index, bool one_dimensional_index, T* out,
                       KernelCheck check) {
  for_each(one_dimensional_index ? "index_add" : "scatter_add", outer * n_index * inner,
           [=] DPHYS_HOST_DEVICE(std::int64_t at) {
             const std::int64_t a = at / (n_index * inner), b = at % inner;
             const std::int64_t k = index[one_dimensional_index ? (at / inner) % n_index : at];
             if (k < 0 || k >= n_x) {
               check.fail();
               return;
             }
             atomic_add(out + (a * n_x + k) * inner + b, src[at]);
           });
}

}  // namespace

void gather_axis(DType dtype, std::int64_t outer, std::int64_t n_x, std::int64_t n_index, std::int64_t inner,
                 const void* x, const std::int64_t* index, bool one_dimensional_index, void* out,
                 KernelCheck check) {
  const char* kernel = one_dimensional_index ? "index_select" : "gather";
  switch (dtype) {
    case DType::f32:
      return gather_typed(kernel, outer, n_x, n_index, inner, static_cast<const float*>(x), index,
                          one_dimensional_index, static_cast<float*>(out), check);
    case DType::f64:
      return gather_typed(kernel, outer, n_x, n_index, inner, static_cast<const double*>(x), index,
                          one_dimensional_index, static_cast<double*>(out), check);
    default:
      return gather_typed(kernel, outer, n_x, n_index, inner, static_cast<const std::int64_t*>(x), index,
                          one_dimensional_index, static_cast<std::int64_t*>(out), check);
  }
}

void scatter_add_axis(DType dtype, std::int64_t outer, std::int64_t n_x, std::int64_t n_index,
                      std::int64_t inner, const void* src, const std::int64_t* index,
                      bool one_dimensional_index, void* out, KernelCheck check) {
  if (dtype == DType::f32)
    return scatter_add_typed(outer, n_x, n_index, inner, static_cast<const float*>(src), index,
                             one_dimensional_index, static_cast<float*>(out), check);
  scatter_add_typed(outer, n_x, n_index, inner, static_cast<const double*>(src), index, one_dimensional_index,
                    static_cast<double*>(out), check);
}

void strided_copy(std::size_t element_size, const Indexing<2>& index, const void* in, void* out) {
  switch (element_size) {
    case 4:
      return strided_copy_words(index, static_cast<const std::uint32_t*>(in),
                                static_cast<std::uint32_t*>(out));
    case 8:
      return strided_copy_words(index, static_cast<const std::uint64_t*>(in),
                                static_cast<std::uint64_t*>(out));
    default:
      return strided_copy_words(index, static_cast<const Word16*>(in), static_cast<Word16*>(out));
  }
}

void axis_map_gather(DType dtype, const AxisMapIndexing& index, const std::int64_t* maps, double fill,
                     const void* x, void* out) {
  switch (dtype) {
    case DType::f32:
      return axis_map_gather_typed(index, maps, static_cast<float>(fill), static_cast<const float*>(x),
                                   static_cast<float*>(out));
    case DType::f64:
      return axis_map_gather_typed(index, maps, fill, static_cast<const double*>(x),
                                   static_cast<double*>(out));
    default:
      return axis_map_gather_typed(index, maps, static_cast<std::int64_t>(fill),
                                   static_cast<const std::int64_t*>(x), static_cast<std::int64_t*>(out));
  }
}

void axis_map_scatter_add(DType dtype, const AxisMapIndexing& index, const std::int64_t* maps, const void* g,
                          void* out) {
  if (dtype == DType::f32)
    return axis_map_scatter_add_typed(index, maps, static_cast<const float*>(g), static_cast<float*>(out));
  axis_map_scatter_add_typed(index, maps, static_cast<const double*>(g), static_cast<double*>(out));
}

}  // namespace dphys::device_kernel
