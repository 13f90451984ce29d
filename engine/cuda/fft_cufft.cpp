// FFTs on the GPU through cuFFT, double precision, on the default stream. Plans are made once per
// (type, length, rows) and host thread, and kept: making one costs far more than running it.
#include <cufft.h>

#include <map>
#include <tuple>

#include "engine/device_kernels.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys::device_kernel {

namespace {

void check_cufft(cufftResult status, const char* what) {
  if (status != CUFFT_SUCCESS) fail("{}: cuFFT error {}", what, static_cast<int>(status));
}

int as_int(std::int64_t v) {
  DPHYS_CHECK(v <= 0x7fffffff, "fft: size {} exceeds cuFFT's 32-bit plan dimensions", v);
  return static_cast<int>(v);
}

// Per host thread: cuFFT is thread safe only when threads execute different plans (HIG's per-example
// Jacobian runs the physics on several OpenMP threads).
cufftHandle plan(cufftType type, std::int64_t n, std::int64_t rows) {
  thread_local std::map<std::tuple<int, std::int64_t, std::int64_t>, cufftHandle> plans;
  const auto key = std::make_tuple(static_cast<int>(type), n, rows);
  const auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  int length = as_int(n);
  const int half = as_int(n / 2 + 1);
  const int in_distance = type == CUFFT_Z2D ? half : length, out_distance = type == CUFFT_D2Z ? half : length;
  cufftHandle handle = 0;
  const auto make = [&] {
    return cufftPlanMany(&handle, 1, &length, nullptr, 1, in_distance, nullptr, 1, out_distance, type,
                         as_int(rows));
  };
  cufftResult status = make();
  if (status == CUFFT_ALLOC_FAILED) {
    // The plan's work area comes from cudaMalloc, outside the block cache: free the cached blocks and retry.
    cufftDestroy(handle);
    device_memory::cache_clear();
    status = make();
  }
  check_cufft(status, "fft (plan)");
  plans.emplace(key, handle);
  return handle;
}

}  // namespace

void fft_r2c(std::int64_t rows, std::int64_t n, const void* in, void* out) {
  if (rows == 0) return;
  check_cufft(cufftExecD2Z(plan(CUFFT_D2Z, n, rows), static_cast<cufftDoubleReal*>(const_cast<void*>(in)),
                           static_cast<cufftDoubleComplex*>(out)),
              "rfft");
}

void fft_c2r(std::int64_t rows, std::int64_t n, void* in, void* out) {
  if (rows == 0) return;
  check_cufft(cufftExecZ2D(plan(CUFFT_Z2D, n, rows), static_cast<cufftDoubleComplex*>(in),
                           static_cast<cufftDoubleReal*>(out)),
              "irfft");
}

void fft_c2c(std::int64_t rows, std::int64_t n, void* data, bool inverse) {
  if (rows == 0) return;
  cufftDoubleComplex* x = static_cast<cufftDoubleComplex*>(data);
  check_cufft(cufftExecZ2Z(plan(CUFFT_Z2Z, n, rows), x, x, inverse ? CUFFT_INVERSE : CUFFT_FORWARD), "fft");
}

}  // namespace dphys::device_kernel
