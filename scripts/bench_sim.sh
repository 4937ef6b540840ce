#!/usr/bin/env bash
# Benchmark (not a test): compile time and instruction-level simulation throughput on ResNet-18 224x224 W4A4
# (torchvision topology), default 16x16 configuration, one core. Uses MODEL if given, else makes an
# ImageNet-shaped random-init model with faq-train (marked untrained; about 15 s).
# Usage: scripts/bench_sim.sh [MODEL.faq] [CONFIG]
set -euo pipefail
build=${BUILD:-build}
model=${1:-out/bench/resnet18_w4a4.faq}
config=${2:-default}
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  "$build/golden/faq-train" --model resnet18 --random-init --image-size 224 --channels 3 --bits 4 --calib-batches 2 \
    --test-vectors 1 --name "$(basename "$model" .faq)" --out "$(dirname "$model")" --no-progress >/dev/null
fi
mkdir -p out/bench
now() { date +%s.%N; }
t0=$(now); "$build/compiler/faqc" compile "$model" --config "$config" -o out/bench/program >/dev/null; t1=$(now)
out=$(taskset -c 0 "$build/compiler/faqc" run "$model" --config "$config"); t2=$(now)
echo "$out"
awk -v c="$(echo "$t1 - $t0" | bc)" -v r="$(echo "$t2 - $t1" | bc)" 'BEGIN { printf "faqc compile (whole command): %.3f s; faqc run on one core (read, compile, simulate, compare): %.3f s\n", c, r }'
