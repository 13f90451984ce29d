#!/usr/bin/env bash
# Joins `dphys <workload> <value> [unit]` and `torch <workload> <value> [unit]` lines into one table.
# Usage: bench/compare.sh RESULTS_FILE RATIO_LABEL   (ratio = dphys/torch for rates, torch/dphys for times)
set -euo pipefail
awk -v label="$2" '
  $1 == "dphys" { d[$2] = $3; u[$2] = $4; order[++n] = $2 }
  $1 == "torch" { t[$2] = $3 }
  END {
    printf "%-42s %14s %14s %10s %s\n", "workload", "dphys", "torch", label, "unit"
    for (i = 1; i <= n; ++i) {
      k = order[i]
      if (label == "dphys/torch") r = (t[k] > 0) ? sprintf("%.2f", d[k] / t[k]) : "-"
      else r = (d[k] > 0) ? sprintf("%.2f", t[k] / d[k]) : "-"
      printf "%-42s %14.1f %14.1f %10s %s\n", k, d[k], t[k], r, u[k]
    }
  }' "$1"
