#include "engine/conv.h"

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "engine/conv_padding.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/elementwise.h"
#include "engine/layout.h"
#include "engine/matmul.h"
#include "engine/reduce.h"

namespace dphys::kernel {

namespace {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct ConvGeometry {
  std::int64_t batch, channels, in_h, in_w, out_channels, kh, kw, out_h, out_w, stride;
  ConvPad pad;
  std::int64_t rows() const { return channels * kh * kw; }  // of the unfolded matrix
  std::int64_t cols() const { return out_h * out_w; }
};

// `x` is the unpadded input's shape.
ConvGeometry geometry(const char* op, const Shape& x, const Shape& w, std::int64_t stride, ConvPad pad) {
  DPHYS_CHECK(x.size() == 4 && w.size() == 4,
              "{}: expected input [B, C, H, W] and weight [O, C, KH, KW], got {} and {}", op, shape_str(x),
              shape_str(w));
  DPHYS_CHECK(x[1] == w[1], "{}: input {} has {} channels but weight {} expects {}", op, shape_str(x), x[1],
              shape_str(w), w[1]);
  DPHYS_CHECK(stride >= 1, "{}: stride must be at least 1, got {}", op, stride);
  DPHYS_CHECK(pad.h >= 0 && pad.w >= 0, "{}: padding must be >= 0, got {} x {}", op, pad.h, pad.w);
  DPHYS_CHECK(!pad.periodic || (x[2] >= 1 && x[3] >= 1) || (pad.h == 0 && pad.w == 0),
              "{}: periodic padding of an empty image {}", op, shape_str(x));
  const std::int64_t padded_h = x[2] + 2 * pad.h, padded_w = x[3] + 2 * pad.w;
  DPHYS_CHECK(padded_h >= w[2] && padded_w >= w[3], "{}: kernel {} is larger than the (padded) input {}", op,
              shape_str(w), shape_str({x[0], x[1], padded_h, padded_w}));
  return {x[0],
          x[1],
          x[2],
          x[3],
          w[0],
          w[2],
          w[3],
          (padded_h - w[2]) / stride + 1,
          (padded_w - w[3]) / stride + 1,
          stride,
          pad};
}

// The output columns j whose padded position j·s + q reads inside the image row: [first, last). Only the
// columns outside it (at most ⌈pad / s⌉ on each side) need padded_source.
struct Interior {
  std::int64_t first, last;
};
Interior interior(std::int64_t q, const ConvGeometry& g) {
  // j·s + q − pad ≥ 0 from j = ⌈(pad − q)/s⌉; j·s + q − pad ≤ n − 1 up to j = ⌊(n − 1 + pad − q)/s⌋.
  const std::int64_t pad = g.pad.w, top = g.in_w - 1 + pad - q;
  const std::int64_t first = std::min(g.out_w, pad > q ? (pad - q + g.stride - 1) / g.stride : 0);
  const std::int64_t last = top < 0 ? first : std::max(first, std::min(g.out_w, top / g.stride + 1));
  return {first, last};
}

// The image row that output row i reads at kernel row p, or −1 for a row of zeros.
std::int64_t source_row(std::int64_t i, std::int64_t p, const ConvGeometry& g) {
  return padded_source(i * g.stride + p, g.pad.h, g.in_h, g.pad.periodic);
}
std::int64_t source_column(std::int64_t j, std::int64_t q, const ConvGeometry& g) {
  return padded_source(j * g.stride + q, g.pad.w, g.in_w, g.pad.periodic);
}

// cols[(c, p, q), (i, j)] = x̄[c, i·s + p, j·s + q], x̄ the padded image
template <class T>
void unfold(const T* image, T* cols, const ConvGeometry& g) {
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t p = 0; p < g.kh; ++p)
      for (std::int64_t q = 0; q < g.kw; ++q) {
        T* row = cols + ((c * g.kh + p) * g.kw + q) * g.cols();
        const Interior inside = interior(q, g);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          T* dst = row + i * g.out_w;
          const std::int64_t y = source_row(i, p, g);
          if (y < 0) {
            std::fill(dst, dst + g.out_w, T(0));
            continue;
          }
          const T* src = image + (c * g.in_h + y) * g.in_w;
          const auto edge = [&](std::int64_t j) {
            const std::int64_t x = source_column(j, q, g);
            dst[j] = x < 0 ? T(0) : src[x];
          };
          for (std::int64_t j = 0; j < inside.first; ++j) edge(j);
          if (inside.first < inside.last) {  // else `start` could point outside the row
            const T* start = src + inside.first * g.stride + q - g.pad.w;
            if (g.stride == 1)  // a contiguous run: a copy, which the strided loop below never becomes
              std::copy(start, start + (inside.last - inside.first), dst + inside.first);
            else
              for (std::int64_t j = inside.first; j < inside.last; ++j)
                dst[j] = start[(j - inside.first) * g.stride];
          }
          for (std::int64_t j = inside.last; j < g.out_w; ++j) edge(j);
        }
      }
}

// dst[k] += src[k] for k < n; the two never overlap (one is the unfolded matrix, the other the image).
template <class T>
void add_run(const T* __restrict src, T* __restrict dst, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) dst[k] += src[k];
}

// The adjoint of unfold: x[c, y, x] += cols[(c, p, q), (i, j)] for every padded position that reads (y, x)
template <class T>
void fold_add(const T* cols, T* image, const ConvGeometry& g) {
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t p = 0; p < g.kh; ++p)
      for (std::int64_t q = 0; q < g.kw; ++q) {
        const T* row = cols + ((c * g.kh + p) * g.kw + q) * g.cols();
        const Interior inside = interior(q, g);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          const std::int64_t y = source_row(i, p, g);
          if (y < 0) continue;
          T* dst = image + (c * g.in_h + y) * g.in_w;
          const T* src = row + i * g.out_w;
          const auto edge = [&](std::int64_t j) {
            const std::int64_t x = source_column(j, q, g);
            if (x >= 0) dst[x] += src[j];
          };
          for (std::int64_t j = 0; j < inside.first; ++j) edge(j);
          if (inside.first < inside.last) {
            T* start = dst + inside.first * g.stride + q - g.pad.w;
            if (g.stride == 1)  // unit stride lets the compiler vectorise the sum
              add_run(src + inside.first, start, inside.last - inside.first);
            else
              for (std::int64_t j = inside.first; j < inside.last; ++j)
                start[(j - inside.first) * g.stride] += src[j];
          }
          for (std::int64_t j = inside.last; j < g.out_w; ++j) edge(j);
        }
      }
}

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  check_same_device(op, a, b);
  DPHYS_CHECK(a.dtype() == b.dtype(), "{}: dtypes {} and {} differ (shapes {} and {})", op,
              dtype_name(a.dtype()), dtype_name(b.dtype()), shape_str(a.shape()), shape_str(b.shape()));
}

// On a device the whole batch is unfolded at once, [B, rows, cols], and the products are batched GEMMs.
device_kernel::ConvShape device_shape(const ConvGeometry& g) {
  return {g.batch, g.channels, g.in_h,   g.in_w,  g.kh,    g.kw,
          g.out_h, g.out_w,    g.stride, g.pad.h, g.pad.w, g.pad.periodic};
}

Tensor unfold_on_device(const Tensor& x, const ConvGeometry& g) {
  check_device_dtype("conv2d", x);
  Tensor cols = Tensor::empty({g.batch, g.rows(), g.cols()}, x.dtype(), x.device());
  device_kernel::unfold(x.dtype(), device_shape(g), device_address(x), device_address(cols));
  return cols;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, std::int64_t stride, ConvPad pad) {
  check_pair("conv2d", x, w);
  const ConvGeometry g = geometry("conv2d", x.shape(), w.shape(), stride, pad);
  if (!x.device().is_cpu()) {
    const Tensor y = matmul(reshape(w, {g.out_channels, g.rows()}), unfold_on_device(x, g));
    return reshape(y, {g.batch, g.out_channels, g.out_h, g.out_w});
  }
  Tensor out = Tensor::empty({g.batch, g.out_channels, g.out_h, g.out_w}, x.dtype(), x.device());
  dispatch_real(x.dtype(), "conv2d", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const Matrix<T>> weight(w.data<T>(), g.out_channels, g.rows());
#pragma omp parallel if (g.batch > 1)
    {
      std::vector<T> buffer(g.rows() * g.cols());
#pragma omp for schedule(static)
      for (std::int64_t b = 0; b < g.batch; ++b) {
        unfold(x.data<T>() + b * g.channels * g.in_h * g.in_w, buffer.data(), g);
        Eigen::Map<Matrix<T>> y(out.data<T>() + b * g.out_channels * g.cols(), g.out_channels, g.cols());
        y.noalias() = weight * Eigen::Map<const Matrix<T>>(buffer.data(), g.rows(), g.cols());
      }
    }
  });
  return out;
}

Tensor conv2d_input_grad(const Tensor& grad, const Tensor& w, std::int64_t stride, std::int64_t in_h,
                         std::int64_t in_w, ConvPad pad) {
  check_pair("conv2d_input_grad", grad, w);
  DPHYS_CHECK(grad.dim() == 4, "conv2d_input_grad: expected a gradient [B, O, H, W], got {}",
              shape_str(grad.shape()));
  const ConvGeometry g =
      geometry("conv2d_input_grad", {grad.shape()[0], w.shape()[1], in_h, in_w}, w.shape(), stride, pad);
  DPHYS_CHECK(grad.shape()[1] == g.out_channels && grad.shape()[2] == g.out_h && grad.shape()[3] == g.out_w,
              "conv2d_input_grad: gradient {} does not match weight {} on a {}x{} input",
              shape_str(grad.shape()), shape_str(w.shape()), in_h, in_w);
  Tensor out = Tensor::empty({g.batch, g.channels, in_h, in_w}, grad.dtype(), grad.device());
  if (!grad.device().is_cpu()) {
    check_device_dtype("conv2d_input_grad", grad);
    const Tensor cols = matmul(permute(reshape(w, {g.out_channels, g.rows()}), {1, 0}),
                               reshape(grad, {g.batch, g.out_channels, g.cols()}));
    device_kernel::fold(grad.dtype(), device_shape(g), device_address(cols), device_address(out));
    return out;
  }
  fill(out, 0.0);
  dispatch_real(grad.dtype(), "conv2d_input_grad", [&](auto t) {
    using T = decltype(t);
    const Eigen::Map<const Matrix<T>> weight(w.data<T>(), g.out_channels, g.rows());
#pragma omp parallel if (g.batch > 1)
    {
      Matrix<T> cols(g.rows(), g.cols());
#pragma omp for schedule(static)
      for (std::int64_t b = 0; b < g.batch; ++b) {
        const Eigen::Map<const Matrix<T>> gb(grad.data<T>() + b * g.out_channels * g.cols(), g.out_channels,
                                             g.cols());
        cols.noalias() = weight.transpose() * gb;
        fold_add(cols.data(), out.data<T>() + b * g.channels * in_h * in_w, g);
      }
    }
  });
  return out;
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad, std::int64_t stride, std::int64_t kh,
                          std::int64_t kw, ConvPad pad) {
  check_pair("conv2d_weight_grad", x, grad);
  DPHYS_CHECK(grad.dim() == 4 && x.dim() == 4 && grad.shape()[0] == x.shape()[0],
              "conv2d_weight_grad: input {} and gradient {} must be [B, C, H, W] and [B, O, H', W']",
              shape_str(x.shape()), shape_str(grad.shape()));
  const ConvGeometry g =
      geometry("conv2d_weight_grad", x.shape(), {grad.shape()[1], x.shape()[1], kh, kw}, stride, pad);
  DPHYS_CHECK(grad.shape()[2] == g.out_h && grad.shape()[3] == g.out_w,
              "conv2d_weight_grad: gradient {} does not match input {} with a {}x{} kernel",
              shape_str(grad.shape()), shape_str(x.shape()), kh, kw);
  if (!x.device().is_cpu()) {
    // Per example g_b · unfold(x_b)ᵀ, as a batched product that reads the unfolded batch as it lies
    // (row-major [rows, N] per example is column-major N × rows, taken transposed), then the sum over the
    // batch.
    check_device_dtype("conv2d_weight_grad", grad);
    const Tensor cols = unfold_on_device(x, g);
    Tensor per_example = Tensor::empty({g.batch, g.out_channels, g.rows()}, x.dtype(), x.device());
    device_kernel::gemm_strided_batched(
        x.dtype(), true, g.rows(), g.out_channels, g.cols(), device_address(cols), g.cols(),
        g.rows() * g.cols(), device_address(grad), g.cols(), g.out_channels * g.cols(),
        device_address(per_example), g.rows(), g.out_channels * g.rows(), g.batch);
    return reshape(reduce(ReduceOp::sum, per_example, {0}, false), {g.out_channels, g.channels, kh, kw});
  }
  Tensor out = Tensor::empty({g.out_channels, g.channels, kh, kw}, x.dtype(), x.device());
  dispatch_real(x.dtype(), "conv2d_weight_grad", [&](auto t) {
    using T = decltype(t);
    // Fixed chunks of the batch (their size set by the batch alone), each summed in order and then added in
    // chunk order: the result does not depend on how many threads share the work (per-thread partials would).
    // Two chunks at least, so that a small batch still keeps both of a 2-core machine's threads busy.
    const std::int64_t chunk = std::max<std::int64_t>(1, std::min<std::int64_t>(8, (g.batch + 1) / 2));
    const std::int64_t chunks = (g.batch + chunk - 1) / chunk;
    std::vector<Matrix<T>> partials(static_cast<std::size_t>(chunks),
                                    Matrix<T>::Zero(g.out_channels, g.rows()));
    // Always a parallel region when there is more than one example, even with one chunk: inside one, Eigen's
    // products stay single-threaded instead of starting threads of their own for small matrices.
#pragma omp parallel if (g.batch > 1)
    {
      std::vector<T> buffer(g.rows() * g.cols());
#pragma omp for schedule(static)
      for (std::int64_t c = 0; c < chunks; ++c)
        for (std::int64_t b = c * chunk; b < std::min(g.batch, (c + 1) * chunk); ++b) {
          unfold(x.data<T>() + b * g.channels * g.in_h * g.in_w, buffer.data(), g);
          const Eigen::Map<const Matrix<T>> gb(grad.data<T>() + b * g.out_channels * g.cols(), g.out_channels,
                                               g.cols());
          partials[c].noalias() +=
              gb * Eigen::Map<const Matrix<T>>(buffer.data(), g.rows(), g.cols()).transpose();
        }
    }
    Eigen::Map<Matrix<T>> total(out.data<T>(), g.out_channels, g.rows());
    total.setZero();
    for (const Matrix<T>& partial : partials) total += partial;
  });
  return out;
}

}  // namespace dphys::kernel
