// Symmetric eigendecomposition (syevd) and thin SVD (gesvd) on the GPU through cuSOLVER's dense API, on the
// default stream. Workspaces come from the device block cache.
#include <cusolverDn.h>

#include "engine/device_kernels.h"
#include "engine/device_memory.h"
#include "engine/error.h"

namespace dphys::device_kernel {

namespace {

void check_cusolver(cusolverStatus_t status, const char* what) {
  if (status != CUSOLVER_STATUS_SUCCESS) fail("{}: cuSOLVER error {}", what, static_cast<int>(status));
}

// One handle per host thread: HIG's per-example work runs on several OpenMP threads, and sharing a
// cuSOLVER handle across threads is not documented as safe.
cusolverDnHandle_t handle() {
  thread_local const cusolverDnHandle_t instance = [] {
    cusolverDnHandle_t h = nullptr;
    cusolverStatus_t status = cusolverDnCreate(&h);
    if (status == CUSOLVER_STATUS_ALLOC_FAILED) {  // its memory comes from outside the block cache
      device_memory::cache_clear();
      status = cusolverDnCreate(&h);
    }
    check_cusolver(status, "cusolverDnCreate");
    return h;
  }();
  return instance;
}

// Device memory for one call: a workspace of `count` elements of T, and LAPACK's info.
template <class T>
class Workspace {
 public:
  explicit Workspace(std::int64_t count)
      : bytes_(static_cast<std::size_t>(count) * sizeof(T) + sizeof(int)),
        data_(device_memory::allocate(bytes_, Device::cuda())) {}
  ~Workspace() { device_memory::deallocate(data_, bytes_, Device::cuda()); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  T* work() const { return static_cast<T*>(data_); }
  // info sits after the workspace, aligned since sizeof(T) is a multiple of sizeof(int).
  int* info() const { return reinterpret_cast<int*>(static_cast<char*>(data_) + bytes_ - sizeof(int)); }
  int read_info() const {
    int value = 0;
    device_memory::copy(&value, Device::cpu(), info(), Device::cuda(), sizeof(int));
    return value;
  }

 private:
  std::size_t bytes_;
  void* data_;
};

int as_int(std::int64_t v, const char* what) {
  DPHYS_CHECK(v <= 0x7fffffff, "{}: size {} exceeds cuSOLVER's 32-bit dimensions", what, v);
  return static_cast<int>(v);
}

template <class T, class BufferSize, class Solve>
int syevd(std::int64_t n64, T* a, T* w, BufferSize buffer_size, Solve solve) {
  const int n = as_int(n64, "eigh");
  int lwork = 0;
  check_cusolver(buffer_size(handle(), CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, n, a, n, w, &lwork),
                 "eigh (workspace)");
  const Workspace<T> workspace(lwork);
  check_cusolver(solve(handle(), CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, n, a, n, w,
                       workspace.work(), lwork, workspace.info()),
                 "eigh");
  return workspace.read_info();
}

template <class T, class BufferSize, class Solve>
int gesvd(std::int64_t m64, std::int64_t n64, T* a, T* u, T* s, T* vt, BufferSize buffer_size, Solve solve) {
  const int m = as_int(m64, "svd"), n = as_int(n64, "svd");
  int lwork = 0;
  check_cusolver(buffer_size(handle(), m, n, &lwork), "svd (workspace)");
  const Workspace<T> workspace(lwork);
  check_cusolver(solve(handle(), 'S', 'A', m, n, a, m, s, u, m, vt, n, workspace.work(), lwork, nullptr,
                       workspace.info()),
                 "svd");
  return workspace.read_info();
}

}  // namespace

int symmetric_eigen(DType dtype, std::int64_t n, void* a, void* w) {
  if (dtype == DType::f32)
    return syevd(n, static_cast<float*>(a), static_cast<float*>(w), cusolverDnSsyevd_bufferSize,
                 cusolverDnSsyevd);
  return syevd(n, static_cast<double*>(a), static_cast<double*>(w), cusolverDnDsyevd_bufferSize,
               cusolverDnDsyevd);
}

int thin_svd(DType dtype, std::int64_t m, std::int64_t n, void* a, void* u, void* s, void* vt) {
  if (dtype == DType::f32)
    return gesvd(m, n, static_cast<float*>(a), static_cast<float*>(u), static_cast<float*>(s),
                 static_cast<float*>(vt), cusolverDnSgesvd_bufferSize, cusolverDnSgesvd);
  return gesvd(m, n, static_cast<double*>(a), static_cast<double*>(u), static_cast<double*>(s),
               static_cast<double*>(vt), cusolverDnDgesvd_bufferSize, cusolverDnDgesvd);
}

}  // namespace dphys::device_kernel
