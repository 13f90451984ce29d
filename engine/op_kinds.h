#pragma once
// The elementwise and reduction operations, shared by the CPU kernels and the device kernels' plain interface
// (engine/device_kernels.h), which must not include the tensor headers.

namespace dphys::kernel {

enum class UnaryOp { neg, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs, sign, erf };
enum class BinaryOp { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge };
enum class ReduceOp { sum, max, min };

}  // namespace dphys::kernel
