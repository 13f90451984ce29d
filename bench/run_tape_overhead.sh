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
printf "%-36s %12s %12s %14s\n" "workload (ns per op, median)" "dphys" "torch" "torch/dphys"
awk '$1 == "dphys" { d[$2] = $3; order[++n] = $2 } $1 == "torch" { t[$2] = $3 }
     END { for (i = 1; i <= n; ++i) { k = order[i]; r = (d[k] > 0) ? sprintf("%.2f", t[k] / d[k]) : "-";
           printf "%-36s %12.1f %12.1f %14s\n", k, d[k], t[k], r } }' "$results"
rm -f "$results"
