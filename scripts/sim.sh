#!/usr/bin/env bash
# The main flow on the built-in default model. Stages that exist run; stages not built yet say so.
# Usage: scripts/sim.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
model=models/fmnist_resnet20_w4a4.faq

echo "== model: $model (resnet20 trained with FAQ on Fashion-MNIST, W4A4, first/last layer 8-bit; docs/results.md)"
"$build/compiler/faqc" inspect "$model"
echo
echo "== compile: not built yet (faqc compile, issue 4)"
echo "== simulate: not built yet (instruction-level simulator, issue 4; Verilator co-simulation, issue 5)"
