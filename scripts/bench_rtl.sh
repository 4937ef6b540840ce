#!/usr/bin/env bash
# Benchmark (not a test): ResNet-18 224x224 through the Verilated accelerator on `default` (16x16), one core:
# wall time, simulated cycles/s and MAC/s, bit-exactness on every layer and per-layer cycles against the cycle
# model (limit 5 %). Uses MODEL if given, else the ImageNet-shaped random-init model of scripts/bench_sim.sh.
# Usage: scripts/bench_rtl.sh [MODEL.faq] [PRESET]
set -euo pipefail
build=${BUILD:-build}
model=${1:-out/bench/resnet18_w4a4.faq}
preset=${2:-default}
[ -f "$model" ] || scripts/bench_sim.sh >/dev/null  # makes out/bench/resnet18_w4a4.faq
start=$(date +%s.%N)
taskset -c 0 "$build/sim/rtl/faq-rtl-$preset" "$model" --max-cycle-error 5 | tee out/bench/rtl_$preset.log | tail -4
end=$(date +%s.%N)
awk -v t="$(echo "$end - $start" | bc)" 'BEGIN { printf "faq-rtl (compile, Verilator co-simulation, compare) on one core: %.1f s\n", t }'
