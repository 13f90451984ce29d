#!/usr/bin/env bash
# Installs the dependencies, builds everything and runs the test suite.
# Usage: scripts/test.sh [build-dir] [extra cmake arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true

scripts/install_deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDPHYS_WERROR=ON "$@"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
