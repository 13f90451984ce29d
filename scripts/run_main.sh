#!/usr/bin/env bash
# The main job: installs the dependencies, builds the SIP heat-equation experiment and runs it in quick mode
# (about a minute or two on 2 cores), then draws its figures. Extra arguments go to the app instead of
# --quick: `--methods sip,adam,sgd --checkpoint-every 50 --resume --out runs/sip_heat` is the paper-size run,
# continued from its checkpoint when started again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh --with-plots
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target sip_heat

out=runs/sip_heat_quick
if [[ $# -eq 0 ]]; then set -- --quick --out "$out"; fi
for ((i = 1; i <= $#; i++)); do
  if [[ "${!i}" == "--out" ]]; then j=$((i + 1)); out="${!j}"; fi
done
build/apps/sip_heat "$@"
# Debian's matplotlib is installed for /usr/bin/python3, not for other interpreters on PATH.
/usr/bin/python3 apps/sip_heat/plot.py "$out"
echo "results: $out/summary.json, $out/metrics.csv; figures: $out/learning_curves.png, $out/reconstructions.png"
