#!/usr/bin/env bash
# The GPU checks, run on the GPU machine from the repository root with third_party_headers/ carried (made by
# scripts/gpu_headers.sh here): builds the CUDA backend with its device tests and the two GPU benchmarks,
# runs the tests, then each benchmark beside its PyTorch twin. Logs go to $OUT (the device tool's folder)
# or gpu_out/. Usage: scripts/gpu_check.sh [tests|bench|all, default all]
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
out="${OUT:-gpu_out}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nvcc --version | tail -1; } \
  2>&1 | tee "$out/device.txt"

start=$(date +%s)
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/third_party_headers" \
  -DDPHYS_CUDA=ON -DDPHYS_BUILD_APPS=OFF > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" --target cuda_tests bench_fluid bench_hig_step > "$out/build.log" 2>&1 \
  || { grep -E "error|Error" "$out/build.log" | head -40; exit 1; }
echo "build: $(( $(date +%s) - start )) s"

status=0
if [[ "$what" == tests || "$what" == all ]]; then
  timeout 300 build-gpu/tests/cuda_tests 2>&1 | tee "$out/cuda_tests.log" | tail -25 || status=1
fi
if [[ "$what" == bench || "$what" == all ]]; then
  {
    timeout 240 build-gpu/bench/bench_fluid cuda
    timeout 240 python3 bench/fluid_torch.py cuda
    timeout 240 build-gpu/bench/bench_hig_step 64 3 cuda
    timeout 240 python3 bench/hig_step_torch.py 64 3 cuda
  } 2>&1 | tee "$out/bench.log"
fi
exit $status
