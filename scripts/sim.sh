#!/usr/bin/env bash
# The main flow on the built-in default model: inspect, compile, run bit-exactly on the instruction-level
# simulator and on the generated RTL (Verilator).
# Usage: scripts/sim.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
model=models/fmnist_resnet20_w4a4.faq
mkdir -p out/sim

echo "== model: $model (resnet20 trained with FAQ on Fashion-MNIST, W4A4, first/last layer 8-bit; docs/results.md)"
"$build/compiler/faqc" inspect "$model"
echo
echo "== compile for the default 16x16 array (per-layer cycles and utilization from the cycle model)"
"$build/compiler/faqc" compile "$model" --config default -o out/sim/resnet20_w4a4 --emit asm
echo
echo "== instruction-level simulation, every layer compared with the model's test vectors; cycles from the cycle model"
for config in tiny default wide scalable; do "$build/compiler/faqc" run "$model" --config "$config"; done
echo
echo "== generated RTL for default (faq-hwgen), Verilator co-simulation: every layer compared, hardware cycles vs the cycle model"
"$build/hw/faq-hwgen" --config default -o out/sim/rtl-default
"$build/sim/rtl/faq-rtl-default" "$model" --max-cycle-error 5
echo
echo "== the same model on the precision-scalable array (scalable: 4-bit layers at four products per PE and cycle)"
"$build/sim/rtl/faq-rtl-scalable" "$model" --max-cycle-error 5 | tail -1
