#!/usr/bin/env bash
# Copies the header-only dependencies (Eigen with its CMake package, fmt, doctest) into third_party_headers/
# (git-ignored), for the GPU machine, which has CMake and nvcc but no Debian packages. Name that folder in the
# device tool's `carry`; scripts/gpu_check.sh configures with it as CMAKE_PREFIX_PATH (fmt header-only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
target=third_party_headers
rm -rf "$target"
mkdir -p "$target/include" "$target/share/eigen3"
cp -r /usr/include/eigen3 /usr/include/fmt /usr/include/doctest "$target/include/"
cp -r /usr/share/eigen3/cmake "$target/share/eigen3/"
du -sh "$target"
