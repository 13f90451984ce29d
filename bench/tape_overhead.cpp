// Tape overhead: ns per op for a chain of adds, with and without recording, for 1-element tensors and for
// 64×64 f32 tensors. The overhead of recording is the difference of the two. Prints one line per workload:
//   dphys <workload> <median ns per op> ns/op
// bench/tape_overhead_torch.py prints the same workloads for PyTorch eager; run_tape_overhead.sh compares.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "bench/timing.h"
#include "dphys.h"

using namespace dphys;

namespace {

constexpr int kChain = 1000;
constexpr int kRepeats = 31;

// Median over repeats of ns per op of `run`, which performs `ops` ops.
double median_ns_per_op(int ops, const std::function<void()>& run) {
  return 1e9 * bench::median_seconds(kRepeats, run) / ops;
}

void bench_chain(const char* name, const Shape& shape) {
  const Tensor c = full(shape, 1e-3);
  Tensor x = zeros(shape);
  const auto chain = [&](const Tensor& start) {
    Tensor y = start;
    for (int i = 0; i < kChain; ++i) y = y + c;
    return y;
  };
  const double plain = median_ns_per_op(kChain, [&] { chain(x); });
  x.requires_grad_();
  const double recorded = median_ns_per_op(kChain, [&] { chain(x); });
  const double with_backward = median_ns_per_op(kChain, [&] { backward(sum(chain(x))); });
  std::printf("dphys %s_norecord %.1f ns/op\n", name, plain);
  std::printf("dphys %s_record %.1f ns/op\n", name, recorded);
  std::printf("dphys %s_record_overhead %.1f ns/op\n", name, recorded - plain);
  std::printf("dphys %s_forward_backward %.1f ns/op\n", name, with_backward);
}

}  // namespace

int main() {
  bench_chain("scalar_add", {1});
  bench_chain("add_64x64", {64, 64});
  return 0;
}
