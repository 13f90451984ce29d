#!/usr/bin/env bash
# U-net and MLP training steps of dphys against the same networks in PyTorch eager (CPU), in one run.
# Usage: bench/run_networks.sh [unet batch, default 128]
set -euo pipefail
cd "$(dirname "$0")/.."
batch="${1:-128}"

scripts/install_deps.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_networks > /dev/null

results=$(mktemp)
build/bench/bench_networks "$batch" | tee "$results"
/usr/bin/python3 bench/networks_torch.py "$batch" | tee -a "$results"
echo
bench/compare.sh "$results" "torch/dphys"
rm -f "$results"
