#!/usr/bin/env bash
# One SIP fluid step (shared/experiments/sip.md §2.6.2) in dphys and in PyTorch eager (CPU), side by side in one
# run, then the peak memory of a rollout's gradient without and with checkpointing, one process each.
# Usage: bench/run_fluid.sh [BATCH STEPS]   (the rollout's size; default 64 and 56, which peaks at 13 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_fluid > /dev/null

results=$(mktemp)
gradient=$(mktemp)
build/bench/bench_fluid | tee "$results"
/usr/bin/python3 bench/fluid_torch.py | tee -a "$results"
echo
bench/compare.sh "$results" "torch/dphys"
echo
# The same quantity from both libraries on adjacent lines: both must compute the same step.
grep '^check ' "$results" | sort -k3,3 -k2,2
echo
build/bench/bench_fluid memory plain "$gradient" "$@" | tee "$results"
build/bench/bench_fluid memory checkpoint "$gradient" "$@" | tee -a "$results"
awk '$2 == "plain_peak" { p = $3 } $2 == "checkpoint_peak" { c = $3 }
     END { printf "checkpointed/plain peak memory: %.3f\n", c / p }' "$results"
rm -f "$results" "$gradient"
