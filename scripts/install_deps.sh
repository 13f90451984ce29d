#!/usr/bin/env bash
# Installs what dphys needs to build and test on Debian 12. Idempotent: installs only what is missing.
# Usage: scripts/install_deps.sh [--with-torch] [--with-plots]
#   --with-torch adds Debian's python3-torch (bench/), --with-plots python3-matplotlib (the apps' figures).
set -euo pipefail

packages=(cmake g++ make libeigen3-dev libfmt-dev doctest-dev)
for option in "$@"; do
  case "$option" in
    --with-torch) packages+=(python3-torch) ;;
    --with-plots) packages+=(python3-matplotlib python3-numpy) ;;
    *) echo "install_deps.sh: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
# Wait for another apt run (e.g. a second set-up command started alongside) instead of failing at once.
lock_wait=(-o DPkg::Lock::Timeout=600)
$sudo apt-get "${lock_wait[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}"
