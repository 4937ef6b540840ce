#!/usr/bin/env bash
# Installs the Debian 12 packages this project builds and runs with, and only those that are missing.
# Idempotent: a second run installs nothing and exits 0. Uses sudo when not root.
# Nothing is downloaded from anywhere but Debian's package archive.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # contract library, CLI, tests
  libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev
  # golden model (LibTorch) and its data
  libtorch-dev libgloo-dev libopencv-dev zlib1g-dev dataset-fashion-mnist
  # RTL simulation
  verilator libsystemc-dev iverilog
  # synthesis, timing and FPGA
  yosys nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb qflow-tech-osu018 opensta
  # report plots (SVG to PNG)
  librsvg2-bin
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
