#!/usr/bin/env bash
# Installs the Debian 12 packages Corvid needs to build, test and benchmark (only the missing ones).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3
  libasmjit-dev libcapstone-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libunicorn-dev nlohmann-json3-dev
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
  qemu-system-arm qemu-system-x86 valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
