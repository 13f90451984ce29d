#!/usr/bin/env bash
# The main job: installs the dependencies, builds the demo and runs it end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target demo_minimize
build/apps/demo_minimize
