#!/usr/bin/env bash
# Installs what dphys needs to build and test on Debian 12. Idempotent: installs only what is missing.
# Usage: scripts/install_deps.sh [--with-torch]   (--with-torch adds Debian's python3-torch for bench/)
set -euo pipefail

packages=(cmake g++ make libeigen3-dev libfmt-dev doctest-dev)
if [[ "${1:-}" == "--with-torch" ]]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
