#pragma once
// Marks functions that run both in CPU code and inside device kernels (engine/cuda/launch.h): __host__
// __device__ under nvcc, nothing for a C++ compiler. Such functions use only plain types and <cmath>.
#if defined(__CUDACC__)
#define DPHYS_HOST_DEVICE __host__ __device__
#else
#define DPHYS_HOST_DEVICE
#endif
