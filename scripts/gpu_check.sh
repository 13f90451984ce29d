#!/usr/bin/env bash
# The GPU checks, run on the GPU machine from the repository root with third_party_headers/ carried (made by
# scripts/gpu_headers.sh here). Builds the CUDA backend, then runs the stages asked for, in this order:
#   tests  the device suites (cuda_tests, cuda_solver_tests, cuda_optim_tests, cuda_transfer_tests): every
#          op, solver and optimizer against the CPU, and the host-device copies of the hot paths;
#   apps   each app's device case (sip_heat, sip_toy, pbdl_toy against their CPU runs), and the wall-clock
#          per iteration of sip_heat (batch 128, SIP and Adam) on the GPU and on this machine's CPU;
#   bench  bench_fluid and bench_hig_step beside their PyTorch twins, the device peak memory of the 56-step
#          fluid gradient with and without checkpoints, and batched BFGS on 256 KS fits;
#   heat   the paper-size sip_heat comparison: SIP and Adam in lockstep (11,001 iterations, so that the 10k
#          window [9000, 11000] exists; HEAT_ITERATIONS and HEAT_BATCH override), stopped after HEAT_SECONDS
#          (default 300), then error(Adam)/error(SIP) at the iterations both reached (sip.md 3.5.1: 1.15-1.7
#          at 100; 3.5.2: 1.7-3.2 at 10k), each the mean over iterations [0.9n, 1.1n] as the app computes it.
#          The run folder is runs/sip_heat_gpu, checkpointed every 100 iterations and resumed when present:
#          carry it to continue a run cut short by the time box (its copy comes back in $OUT).
#   sanitize  cuda_tests and cuda_solver_tests under compute-sanitizer (memcheck, then racecheck); it reads
#          the hardware only on Firecracker machines (device tool's KINDS.md), and is slow: not a default.
# Logs and run folders go to $OUT (the device tool's folder) or gpu_out/.
# Usage: scripts/gpu_check.sh [stage ...]   (default: tests apps bench)
set -uo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(tests apps bench)
wants() { [[ " ${stages[*]} " == *" $1 "* ]]; }
mkdir -p "${OUT:-gpu_out}"
out="$(cd "${OUT:-gpu_out}" && pwd)"  # absolute: the app stage runs from the test folder
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nvcc --version | tail -1; nproc; } \
  2>&1 | tee "$out/device.txt"

targets=()
wants tests && targets+=(cuda_tests cuda_solver_tests cuda_optim_tests cuda_transfer_tests)
wants sanitize && targets+=(cuda_tests cuda_solver_tests)
wants apps && targets+=(sip_heat sip_toy pbdl_toy sip_heat_app_tests sip_toy_app_tests pbdl_toy_app_tests)
wants bench && targets+=(bench_fluid bench_hig_step bench_bfgs_ks)
wants heat && targets+=(sip_heat)
start=$(date +%s)
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/third_party_headers" \
  -DDPHYS_CUDA=ON > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" --target "${targets[@]}" > "$out/build.log" 2>&1 \
  || { grep -E "error|Error" "$out/build.log" | head -40; exit 1; }
echo "build: $(( $(date +%s) - start )) s"

status=0
# A device case skips without a GPU; here a missing device (a broken driver or runtime) fails it instead.
export DPHYS_REQUIRE_CUDA=1
if wants tests; then
  # As the apps run: launches asynchronous. A suite that fails runs again with synchronous launches, so that a
  # fault inside a kernel is reported under that kernel's name.
  for suite in cuda_tests cuda_solver_tests cuda_optim_tests cuda_transfer_tests; do
    if ! timeout 300 "build-gpu/tests/$suite" > "$out/$suite.log" 2>&1; then
      status=1
      tail -20 "$out/$suite.log"
      DPHYS_CUDA_SYNC=1 timeout 300 "build-gpu/tests/$suite" > "$out/$suite.sync.log" 2>&1
    fi
    tail -3 "$out/$suite.log"
  done
fi
if wants sanitize; then
  for tool in memcheck racecheck; do
    for suite in cuda_tests cuda_solver_tests; do
      timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 3 "build-gpu/tests/$suite" \
        > "$out/$suite.$tool.log" 2>&1 || status=1
      echo "$suite under $tool:"
      tail -4 "$out/$suite.$tool.log"
    done
  done
fi
if wants apps; then
  (
    cd build-gpu/tests || exit 1
    for suite in sip_heat_app_tests sip_toy_app_tests pbdl_toy_app_tests; do
      timeout 300 "./$suite" -tc='*cuda*' 2>&1 | tee "$out/$suite.log" | tail -4 || exit 1
    done
  ) || status=1
  for device in cuda cpu; do
    iterations=50
    [[ $device == cpu ]] && iterations=3
    timeout 300 build-gpu/apps/sip_heat --methods sip,adam --iterations "$iterations" --batch 128 --device "$device" \
      --out "$out/sip_heat_timing_$device" > "$out/sip_heat_timing_$device.log" 2>&1 || status=1
    # Seconds per iteration after the first (which pays for library handles, FFT plans and cold caches).
    echo "sip_heat --device $device, batch 128, $(nproc) CPU threads:"
    awk -F, 'NR > 1 { if ($2 == 0) first[$1] = $3; last[$1] = $3; n[$1] = $2 }
             END { for (m in n) if (n[m] > 0) printf "  %s: %.4f s per iteration (iterations 1..%d)\n", m,
                   (last[m] - first[m]) / n[m], n[m] }' "$out/sip_heat_timing_$device/metrics.csv"
  done
fi
if wants bench; then
  {
    timeout 240 build-gpu/bench/bench_fluid cuda
    timeout 240 python3 bench/fluid_torch.py cuda
    timeout 240 build-gpu/bench/bench_hig_step 64 3 cuda
    timeout 240 python3 bench/hig_step_torch.py 64 3 cuda
    timeout 240 build-gpu/bench/bench_fluid memory plain "$out/fluid_gradient.bin" 64 56 cuda
    timeout 240 build-gpu/bench/bench_fluid memory checkpoint "$out/fluid_gradient.bin" 64 56 cuda
    rm -f "$out/fluid_gradient.bin"
    timeout 240 build-gpu/bench/bench_bfgs_ks cuda
    timeout 240 build-gpu/bench/bench_bfgs_ks
  } 2>&1 | tee "$out/bench.log"
fi
if wants heat; then
  run=runs/sip_heat_gpu
  timeout "${HEAT_SECONDS:-300}" build-gpu/apps/sip_heat --methods sip,adam --iterations "${HEAT_ITERATIONS:-11001}" \
    --batch "${HEAT_BATCH:-128}" --device cuda --checkpoint-every 100 --resume --out "$run" \
    > "$out/sip_heat_gpu.log" 2>&1
  tail -c 2000 "$out/sip_heat_gpu.log" | tr '\r' '\n' | tail -5
  cp -r "$run" "$out/"
  awk -f scripts/heat_ratios.awk "$run/metrics.csv" | tee "$out/sip_heat_gpu.txt"
fi
exit $status
