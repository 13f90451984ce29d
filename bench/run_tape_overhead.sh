#!/usr/bin/env bash
# Tape overhead of dphys against PyTorch eager (CPU), measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_tape_overhead > /dev/null

results=$(mktemp)
build/bench/bench_tape_overhead | tee "$results"
# Debian's python3-torch is installed for /usr/bin/python3, not for other interpreters on PATH.
/usr/bin/python3 bench/tape_overhead_torch.py | tee -a "$results"
echo
bench/compare.sh "$results" "torch/dphys"
rm -f "$results"
