#pragma once
// The kernels of the device backend, on raw device addresses. The tensor-level functions in engine/*.cpp
// check shapes, dtypes and devices, allocate the outputs and call these; engine/cuda/*.cu implements them.
// No Tensor and no fmt here: nvcc compiles the implementations and only needs plain types.
// Element types on the device: f32 and f64 for arithmetic, i64 for indices; complex (c64, c128) for casts,
// FFTs and Fourier products only.
#include <cstddef>
#include <cstdint>

#include "engine/dtype.h"
#include "engine/kernel_check.h"
#include "engine/op_kinds.h"

namespace dphys::device_kernel {

using kernel::BinaryOp;
using kernel::ReduceOp;
using kernel::UnaryOp;

constexpr int kMaxDims = 8;

// An iteration over `shape` (row-major) in which element i reads or writes operand k at offset
// Σ_d coordinate_d · strides[k][d]. Passed by value into kernels.
template <int N>
struct Indexing {
  int ndim = 0;
  std::int64_t shape[kMaxDims] = {};
  std::int64_t strides[N][kMaxDims] = {};
};

void unary(UnaryOp op, DType dtype, std::int64_t n, const void* x, void* out);
// out[i] = a[offset 0] op b[offset 1]; comparisons write 0 or 1.
void binary(BinaryOp op, DType dtype, const Indexing<2>& index, const void* a, const void* b, void* out);
// out[i] = cond[offset 0] != 0 ? a[offset 1] : b[offset 2].
void where(DType cond_dtype, DType dtype, const Indexing<3>& index, const void* cond, const void* a,
           const void* b, void* out);
void cast(DType from, DType to, std::int64_t n, const void* x, void* out);
// a[i] += alpha · b[offset 0], over a's elements.
void add_scaled(DType dtype, const Indexing<1>& index, double alpha, const void* b, void* a);
void scale(DType dtype, std::int64_t n, double factor, void* a);
void fill(DType dtype, std::int64_t n, double value, void* a);

// Random draws of engine/creation.cpp (Generator's counter-based elements), in f32 or f64: uniform with
// (a, b, c) = (low, high, top), normal with (a, b) = (mean, stddev).
enum class Distribution { uniform, normal };
void random_fill(Distribution distribution, DType dtype, std::int64_t n, std::uint64_t seed,
                 std::uint64_t start, double a, double b, double c, void* out);

// out[i] = (x[i], 0): a real f32 or f64 array into complex of the same precision.
void real_to_complex(DType real, std::int64_t n, const void* x, void* out);
// out[i] = conj(x[i]) for n complex numbers of f32 or f64 components.
void conjugate(DType real, std::int64_t n, const void* x, void* out);

// out[offset 1] = in[offset 0] for elements of `element_size` bytes (4, 8 or 16).
void strided_copy(std::size_t element_size, const Indexing<2>& index, const void* in, void* out);
// Where axis_map_gather reads: output shape, x's strides, and where each axis's map starts in `maps`.
struct AxisMapIndexing {
  int ndim = 0;
  std::int64_t out_shape[kMaxDims] = {};
  std::int64_t x_strides[kMaxDims] = {};
  std::int64_t map_start[kMaxDims] = {};
};
// out[i...] = x[maps[0][i0], maps[1][i1], ...], or `fill` where a map entry is -1; `maps` is a device array
// holding the per-axis maps one after another (engine/layout.h).
void axis_map_gather(DType dtype, const AxisMapIndexing& index, const std::int64_t* maps, double fill,
                     const void* x, void* out);
// Its adjoint: out (x's shape, zeroed by the caller) accumulates g (the output's shape) at the source
// indices.
void axis_map_scatter_add(DType dtype, const AxisMapIndexing& index, const std::int64_t* maps, const void* g,
                          void* out);

// Training-mode batch normalisation of x viewed as [n, c, s] (engine/batch_norm.h); mean, var, weight,
// bias, dweight and dbias are [c] in x's dtype.
void batch_norm_statistics(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* x,
                           void* mean, void* var);
void batch_norm_apply(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* x,
                      const void* mean, const void* var, const void* weight, const void* bias, double eps,
                      void* y);
void batch_norm_backward(DType dtype, std::int64_t n, std::int64_t c, std::int64_t s, const void* g,
                         const void* x, const void* mean, const void* var, const void* weight, double eps,
                         void* dx, void* dweight, void* dbias);

// Fails `check` unless the single f32 or f64 value at `value` is 0 (engine/value_check.h).
void fail_unless_zero(DType dtype, const void* value, KernelCheck check);

// Along the middle axis of [outer, ·, inner] views: out[a, k, b] = x[a, index[a, k, b], b] (gather) and
// out[a, index[a, k, b], b] += src[a, k, b] (scatter_add, atomically). With `one_dimensional_index` the index
// is index[k] (index_select and index_add). An index outside [0, n_x) fails `check`; gather writes 0 there.
void gather_axis(DType dtype, std::int64_t outer, std::int64_t n_x, std::int64_t n_index, std::int64_t inner,
                 const void* x, const std::int64_t* index, bool one_dimensional_index, void* out,
                 KernelCheck check);
void scatter_add_axis(DType dtype, std::int64_t outer, std::int64_t n_x, std::int64_t n_index,
                      std::int64_t inner, const void* src, const std::int64_t* index,
                      bool one_dimensional_index, void* out, KernelCheck check);

// Reduces the middle axis of x viewed as [outer, n, inner]; f32 sums accumulate in f64, NaN propagates
// through max and min.
void reduce_middle(ReduceOp op, DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner,
                   const void* x, void* out);
// Index (i64) of the first largest element along the middle axis.
void argmax_middle(DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner, const void* x,
                   void* out);

// Column-major batched GEMM with cuBLAS's argument conventions: C_b (m×n, ldc) = op(A_b) · B_b (k×n, ldb) for
// b < batch, operand b at offset b·stride; op(A_b) is A_b (m×k, lda) or, with transpose_a, A_bᵀ for A_b
// stored k×m (lda).
void gemm_strided_batched(DType dtype, bool transpose_a, std::int64_t m, std::int64_t n, std::int64_t k,
                          const void* a, std::int64_t lda, std::int64_t stride_a, const void* b,
                          std::int64_t ldb, std::int64_t stride_b, void* c, std::int64_t ldc,
                          std::int64_t stride_c, std::int64_t batch);

// ---- dense linear algebra (engine/linalg.cpp): cuBLAS and cuSOLVER, column-major as they are ----
// The lower triangle of C (n×n, column-major) = Aᵀ·A for A (k×n, column-major, leading dimension k).
void syrk_lower(DType dtype, std::int64_t n, std::int64_t k, const void* a, void* c);
// Copies the lower triangle of the column-major n×n C onto its upper triangle.
void symmetrize_lower(DType dtype, std::int64_t n, void* c);
// Eigendecomposition of the symmetric column-major n×n A, read from its upper triangle, in place: A becomes
// the eigenvectors (as columns), w the eigenvalues ascending. Returns LAPACK's info: 0 on success.
int symmetric_eigen(DType dtype, std::int64_t n, void* a, void* w);
// Thin SVD of the column-major m×n A (m ≥ n), which it overwrites: U m×n, s n descending, VT n×n. Returns
// LAPACK's info: 0 on success.
int thin_svd(DType dtype, std::int64_t m, std::int64_t n, void* a, void* u, void* s, void* vt);

// ---- FFT (engine/fft.cpp): cuFFT in double precision (f64 and c128), unnormalised as cuFFT is ----
// Batched over `rows` contiguous rows: r2c maps n reals to n/2 + 1 bins, c2r is its inverse (it overwrites
// its input, and its input must be Hermitian-consistent: see drop_self_mirrored_imaginary), c2c transforms
// rows of n bins in place.
void fft_r2c(std::int64_t rows, std::int64_t n, const void* in, void* out);
void fft_c2r(std::int64_t rows, std::int64_t n, void* in, void* out);
void fft_c2c(std::int64_t rows, std::int64_t n, void* data, bool inverse);
// Zeroes the imaginary parts of the bins of each row (of `half` bins, signals of length n) that are their own
// mirror: bin 0 and, for even n, bin n/2. A real inverse transform keeps only their real parts.
void drop_self_mirrored_imaginary(std::int64_t rows, std::int64_t half, std::int64_t n, void* spectrum);
// out[i] = spectrum[offset 0] · multiplier[offset 1]: a c128 spectrum times an f64 or c128 multiplier.
void complex_multiply(const Indexing<2>& index, const void* spectrum, const void* multiplier,
                      bool complex_multiplier, void* out);

// ---- convolution (engine/conv.cpp): im2col for the whole batch, and its adjoint ----
// in_h × in_w is the unpadded image; pad_h, pad_w and periodic as kernel::ConvPad (engine/conv.h).
struct ConvShape {
  std::int64_t batch, channels, in_h, in_w, kh, kw, out_h, out_w, stride, pad_h, pad_w;
  bool periodic;
};
// cols[b, (c, p, q), (i, j)] = x̄[b, c, i·s + p, j·s + q], x̄ the padded image
void unfold(DType dtype, const ConvShape& shape, const void* x, void* cols);
// x[b, c, y, x] = Σ cols[b, (c, p, q), (i, j)] over the padded positions (i·s + p, j·s + q) that read
// (y, x) (one thread per input element, no atomics).
void fold(DType dtype, const ConvShape& shape, const void* cols, void* x);

// ---- max pooling (engine/max_pool.h): the backward pass, one thread per window ----
void max_pool_backward(DType dtype, std::int64_t windows, std::int64_t h, std::int64_t w, std::int64_t kh,
                       std::int64_t kw, const void* x, const void* y, const void* g, void* dx);

// ---- stencils (engine/stencil.h); Boundary as its integer value: 0 periodic, 1 dirichlet, 2 neumann ----
void laplacian(DType dtype, std::int64_t images, std::int64_t ny, std::int64_t nx, int dims, double dy,
               double dx, int boundary, const void* x, void* out);
// Face weights and the diagonal are shared by the batch when their batch extent is 1; d may be null.
void weighted_poisson(DType dtype, std::int64_t batch, std::int64_t ny, std::int64_t nx, double dy, double dx,
                      int boundary, const void* p, const void* wx, bool wx_batched, const void* wy,
                      bool wy_batched, const void* d, bool d_batched, void* out);
// out[o, i, k] = (src(i + hi) − src(i + lo)) / h over [outer, n_out, inner]; src(j) wraps when periodic and
// is zero outside otherwise; the input has n rows.
void axis_difference(DType dtype, std::int64_t outer, std::int64_t n, std::int64_t inner, std::int64_t n_out,
                     std::int64_t lo, std::int64_t hi, double h, bool periodic, const void* x, void* out);

// ---- batched conjugate gradients (engine/cg_kernels.h); sums are f64 device arrays of one per example ----
void batched_dot(DType dtype, std::int64_t batch, std::int64_t per_example, const void* a, const void* b,
                 double* sums);
// alpha: device array; d may be null.
void cg_update(DType dtype, std::int64_t batch, std::int64_t per_example, void* x, void* r, void* z,
               const void* p, const void* ap, const double* alpha, const void* d, double* sums);
void cg_direction(DType dtype, std::int64_t batch, std::int64_t per_example, void* p, const void* z,
                  const double* beta);

}  // namespace dphys::device_kernel
