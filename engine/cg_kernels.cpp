#include "engine/cg_kernels.h"

#include "engine/creation.h"
#include "engine/device_dispatch.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace dphys::kernel {

namespace {

// Each example is cut into chunks so that a single large system still uses every core; chunk partial sums
// are added in chunk order.
constexpr std::int64_t kChunk = 1 << 14;

struct Layout {
  std::int64_t batch, per_example, chunks;
  explicit Layout(const Tensor& t)
      : batch(t.dim() == 0 ? 1 : t.shape()[0]),
        per_example(batch == 0 ? 0 : t.numel() / batch),
        chunks(std::max<std::int64_t>(1, (per_example + kChunk - 1) / kChunk)) {}
};

// Runs f(example, begin, end) over every chunk and returns the per-example sums of its results.
template <class F>
std::vector<double> chunked_sum(const Layout& l, F f) {
  std::vector<double> partial(l.batch * l.chunks, 0.0);
  parallel_for(l.batch * l.chunks, std::min(l.per_example, kChunk), [&](std::int64_t job) {
    const std::int64_t b = job / l.chunks, c = job % l.chunks;
    const std::int64_t begin = b * l.per_example + c * kChunk;
    const std::int64_t end = b * l.per_example + std::min(l.per_example, (c + 1) * kChunk);
    partial[job] = f(b, begin, end);
  });
  std::vector<double> sums(l.batch, 0.0);
  for (std::int64_t job = 0; job < l.batch * l.chunks; ++job) sums[job / l.chunks] += partial[job];
  return sums;
}

void check_like(const char* op, const Tensor& a, const Tensor& b) {
  DPHYS_CHECK(a.shape() == b.shape() && a.dtype() == b.dtype() && a.device() == b.device(),
              "{}: tensors differ ({} {} and {} {})", op, dtype_name(a.dtype()), shape_str(a.shape()),
              dtype_name(b.dtype()), shape_str(b.shape()));
}

// A per-example coefficient array: f64 [batch] on the vectors' device.
void check_coefficients(const char* op, const Tensor& coefficients, const Tensor& like, std::int64_t batch) {
  DPHYS_CHECK(coefficients.dtype() == DType::f64 && coefficients.shape() == Shape{batch} &&
                  coefficients.device() == like.device(),
              "{}: coefficients must be f64 [{}] on {}, got {} {} on {}", op, batch, like.device().str(),
              dtype_name(coefficients.dtype()), shape_str(coefficients.shape()), coefficients.device().str());
}

// Per-example sums computed on the host, as the f64 [batch] tensor the API returns.
Tensor host_sums(const std::vector<double>& sums) {
  return from_vector(sums, {static_cast<std::int64_t>(sums.size())}, DType::f64);
}

}  // namespace

Tensor batched_dot(const Tensor& a, const Tensor& b) {
  check_like("batched_dot", a, b);
  const Layout l(a);
  if (!a.device().is_cpu()) {
    check_device_dtype("batched_dot", a);
    Tensor sums = Tensor::empty({l.batch}, DType::f64, a.device());
    device_kernel::batched_dot(a.dtype(), l.batch, l.per_example, device_address(a), device_address(b),
                               device_data<double>(sums));
    return sums;
  }
  return dispatch_real(a.dtype(), "batched_dot", [&](auto t) {
    using T = decltype(t);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    return host_sums(chunked_sum(l, [&](std::int64_t, std::int64_t begin, std::int64_t end) {
      double acc = 0.0;
      for (std::int64_t i = begin; i < end; ++i) acc += static_cast<double>(pa[i]) * pb[i];
      return acc;
    }));
  });
}

Tensor cg_update(const Tensor& x, const Tensor& r, const Tensor& z, const Tensor& p, const Tensor& ap,
                 const Tensor& alpha, const Tensor& diagonal) {
  for (const Tensor* t : {&r, &z, &p, &ap}) check_like("cg_update", x, *t);
  if (diagonal.defined()) check_like("cg_update", x, diagonal);
  const Layout l(x);
  check_coefficients("cg_update", alpha, x, l.batch);
  if (!x.device().is_cpu()) {
    check_device_dtype("cg_update", x);
    Tensor sums = Tensor::empty({l.batch}, DType::f64, x.device());
    device_kernel::cg_update(
        x.dtype(), l.batch, l.per_example, device_address(x), device_address(r), device_address(z),
        device_address(p), device_address(ap), device_data<double>(alpha),
        diagonal.defined() ? device_address(diagonal) : nullptr, device_data<double>(sums));
    return sums;
  }
  const double* step = alpha.data<double>();
  return dispatch_real(x.dtype(), "cg_update", [&](auto t) {
    using T = decltype(t);
    T *px = x.data<T>(), *pr = r.data<T>(), *pz = z.data<T>();
    const T *pp = p.data<T>(), *pap = ap.data<T>();
    const T* pd = diagonal.defined() ? diagonal.data<T>() : nullptr;
    return host_sums(chunked_sum(l, [&](std::int64_t b, std::int64_t begin, std::int64_t end) {
      const T a = static_cast<T>(step[b]);
      double acc = 0.0;
      for (std::int64_t i = begin; i < end; ++i) {
        px[i] += a * pp[i];
        const T ri = pr[i] - a * pap[i];
        const T zi = pd ? ri / pd[i] : ri;
        pr[i] = ri;
        pz[i] = zi;
        acc += static_cast<double>(ri) * zi;
      }
      return acc;
    }));
  });
}

void cg_direction(const Tensor& p, const Tensor& z, const Tensor& beta) {
  check_like("cg_direction", p, z);
  const Layout l(p);
  check_coefficients("cg_direction", beta, p, l.batch);
  if (!p.device().is_cpu()) {
    check_device_dtype("cg_direction", p);
    return device_kernel::cg_direction(p.dtype(), l.batch, l.per_example, device_address(p),
                                       device_address(z), device_data<double>(beta));
  }
  const double* coefficient = beta.data<double>();
  dispatch_real(p.dtype(), "cg_direction", [&](auto t) {
    using T = decltype(t);
    T* pp = p.data<T>();
    const T* pz = z.data<T>();
    chunked_sum(l, [&](std::int64_t b, std::int64_t begin, std::int64_t end) {
      const T s = static_cast<T>(coefficient[b]);
      for (std::int64_t i = begin; i < end; ++i) pp[i] = pz[i] + s * pp[i];
      return 0.0;
    });
  });
}

}  // namespace dphys::kernel
