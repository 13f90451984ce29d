#!/usr/bin/env bash
# Solver throughput of dphys against the same algorithms in PyTorch eager (CPU), side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_solvers > /dev/null

results=$(mktemp)
build/bench/bench_solvers | tee "$results"
/usr/bin/python3 bench/solvers_torch.py | tee -a "$results"
echo
bench/compare.sh "$results" "dphys/torch"
rm -f "$results"
