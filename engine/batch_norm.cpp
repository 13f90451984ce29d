#include "engine/batch_norm.h"

#include <cmath>

#include "engine/batch_norm_element.h"
#include "engine/device_dispatch.h"
#include "engine/device_kernels.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

// x viewed as [n, c, s]: batch, channels, everything after the channel axis.
struct Layout {
  std::int64_t n, c, s;
  explicit Layout(const Tensor& x)
      : n(x.shape()[0]), c(x.shape()[1]), s(x.numel() / std::max<std::int64_t>(1, n * c)) {}
  std::int64_t count() const { return n * s; }  // values per channel
};

Layout check_input(const char* op, const Tensor& x) {
  DPHYS_CHECK(x.dim() >= 2 && (x.dtype() == DType::f32 || x.dtype() == DType::f64),
              "{}: expected an f32 or f64 input [N, C, ...], got {} {}", op, dtype_name(x.dtype()),
              shape_str(x.shape()));
  const Layout l(x);
  DPHYS_CHECK(l.count() > 1, "{}: training needs more than one value per channel, got input {}", op,
              shape_str(x.shape()));
  return l;
}

void check_channels(const char* op, const Tensor& x, const Layout& l,
                    std::initializer_list<const Tensor*> per_channel) {
  for (const Tensor* t : per_channel)
    DPHYS_CHECK(t->shape() == Shape{l.c} && t->dtype() == x.dtype() && t->device() == x.device(),
                "{}: per-channel tensors must be {} [{}] on {}, got {} {} on {}", op, dtype_name(x.dtype()),
                l.c, x.device().str(), dtype_name(t->dtype()), shape_str(t->shape()), t->device().str());
}

// f(channel, value index k) over the channel's values, k = batch index · s + position.
template <class F>
void for_channel_values(const Layout& l, std::int64_t channel, F f) {
  for (std::int64_t b = 0; b < l.n; ++b)
    for (std::int64_t p = 0; p < l.s; ++p) f((b * l.c + channel) * l.s + p);
}

// Σ term(i) over the channel's values, in double. Each contiguous run of s values goes to eight interleaved
// partial sums: one running sum is a chain the compiler may not reorder, eight independent ones vectorise.
// The order is fixed, so the result does not depend on the number of threads.
template <class F>
double channel_sum(const Layout& l, std::int64_t channel, F term) {
  constexpr std::int64_t lanes = 8;
  double partial[lanes] = {};
  for (std::int64_t b = 0; b < l.n; ++b) {
    const std::int64_t start = (b * l.c + channel) * l.s;
    std::int64_t p = 0;
    for (; p + lanes <= l.s; p += lanes)
      for (std::int64_t k = 0; k < lanes; ++k) partial[k] += term(start + p + k);
    for (; p < l.s; ++p) partial[p % lanes] += term(start + p);
  }
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

}  // namespace

std::array<Tensor, 2> batch_norm_statistics(const Tensor& x) {
  const Layout l = check_input("batch_norm", x);
  Tensor mean = Tensor::empty({l.c}, x.dtype(), x.device()),
         var = Tensor::empty({l.c}, x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    check_device_dtype("batch_norm", x);
    device_kernel::batch_norm_statistics(x.dtype(), l.n, l.c, l.s, device_address(x), device_address(mean),
                                         device_address(var));
    return {mean, var};
  }
  dispatch_real(x.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T *m = mean.data<T>(), *v = var.data<T>();
    const double count = static_cast<double>(l.count());
    parallel_for(l.c, l.count(), [&](std::int64_t ch) {
      const double total = channel_sum(l, ch, [&](std::int64_t i) { return static_cast<double>(in[i]); });
      const T mu = static_cast<T>(total / count);
      const double squares = channel_sum(l, ch, [&](std::int64_t i) {
        const T d = in[i] - mu;
        return static_cast<double>(d * d);
      });
      m[ch] = mu;
      v[ch] = static_cast<T>(squares / count);
    });
  });
  return {mean, var};
}

Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                        const Tensor& bias, double eps) {
  const Layout l = check_input("batch_norm", x);
  check_channels("batch_norm", x, l, {&mean, &var, &weight, &bias});
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    check_device_dtype("batch_norm", x);
    device_kernel::batch_norm_apply(x.dtype(), l.n, l.c, l.s, device_address(x), device_address(mean),
                                    device_address(var), device_address(weight), device_address(bias), eps,
                                    device_address(y));
    return y;
  }
  dispatch_real(x.dtype(), "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    const T *in = x.data<T>(), *m = mean.data<T>(), *v = var.data<T>(), *w = weight.data<T>(),
            *b = bias.data<T>();
    T* out = y.data<T>();
    parallel_for(l.n * l.c, l.s, [&](std::int64_t row) {
      const std::int64_t ch = row % l.c;
      const T std = std::sqrt(v[ch] + static_cast<T>(eps));
      for (std::int64_t p = 0; p < l.s; ++p)
        out[row * l.s + p] = batch_norm::output(in[row * l.s + p], m[ch], std, w[ch], b[ch]);
    });
  });
  return y;
}

std::array<Tensor, 3> batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean,
                                          const Tensor& var, const Tensor& weight, double eps) {
  const Layout l = check_input("batch_norm (backward)", x);
  check_channels("batch_norm (backward)", x, l, {&mean, &var, &weight});
  DPHYS_CHECK(g.shape() == x.shape() && g.dtype() == x.dtype() && g.device() == x.device(),
              "batch_norm (backward): cotangent {} {} for an input {} {}", dtype_name(g.dtype()),
              shape_str(g.shape()), dtype_name(x.dtype()), shape_str(x.shape()));
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dweight = Tensor::empty({l.c}, x.dtype(), x.device()),
         dbias = Tensor::empty({l.c}, x.dtype(), x.device());
  if (!x.device().is_cpu()) {
    check_device_dtype("batch_norm (backward)", x);
    device_kernel::batch_norm_backward(x.dtype(), l.n, l.c, l.s, device_address(g), device_address(x),
                                       device_address(mean), device_address(var), device_address(weight), eps,
                                       device_address(dx), device_address(dweight), device_address(dbias));
    return {dx, dweight, dbias};
  }
  dispatch_real(x.dtype(), "batch_norm (backward)", [&](auto zero) {
    using T = decltype(zero);
    const T *gd = g.data<T>(), *in = x.data<T>(), *m = mean.data<T>(), *v = var.data<T>(),
            *w = weight.data<T>();
    T *out = dx.data<T>(), *dw = dweight.data<T>(), *db = dbias.data<T>();
    const double count = static_cast<double>(l.count());
    parallel_for(l.c, 3 * l.count(), [&](std::int64_t ch) {
      const T std = std::sqrt(v[ch] + static_cast<T>(eps));
      const T mu = m[ch];
      const double sum_g = channel_sum(l, ch, [&](std::int64_t i) { return static_cast<double>(gd[i]); });
      const double sum_g_xhat = channel_sum(
          l, ch, [&](std::int64_t i) { return static_cast<double>(gd[i] * ((in[i] - mu) / std)); });
      db[ch] = static_cast<T>(sum_g);
      dw[ch] = static_cast<T>(sum_g_xhat);
      for_channel_values(l, ch, [&](std::int64_t i) {
        out[i] = batch_norm::input_grad(gd[i], in[i], m[ch], std, w[ch], sum_g / count, sum_g_xhat / count);
      });
    });
  });
  return {dx, dweight, dbias};
}

}  // namespace dphys::kernel
