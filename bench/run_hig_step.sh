#!/usr/bin/env bash
# One HIG step on the Poisson case of hig.md (4096 × 41,408 Jacobian) in dphys and in PyTorch eager (CPU),
# side by side in one run. Usage: bench/run_hig_step.sh [batch, default 64] [repeats, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_hig_step > /dev/null

results=$(mktemp)
build/bench/bench_hig_step "$@" | tee "$results"
/usr/bin/python3 bench/hig_step_torch.py "$@" | tee -a "$results"
echo
bench/compare.sh "$results" "torch/dphys"
rm -f "$results"
