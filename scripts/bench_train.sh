#!/usr/bin/env bash
# Benchmark (not a test): training throughput of faq-train, FP32 and FAQ fake-quantized, per model.
# Prints one line per model and stage with images/s measured over one epoch of a fixed subset.
# Usage: scripts/bench_train.sh [FAQ_TRAIN] [cpu|cuda] [DATA]
set -euo pipefail
train=${1:-build/golden/faq-train}
device=${2:-cpu}
data=${3:-fashion-mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$device" = cuda ]; then limit=20000; else limit=2000; fi
printf "%-10s %-6s %-8s %12s %12s\n" model size device fp32_img/s faq_img/s
for spec in "tiny 28 1" "resnet20 28 1" "resnet18 224 3"; do
  set -- $spec
  [ "$device" = cpu ] && [ "$1" = resnet18 ] && limit_here=256 || limit_here=$limit
  "$train" --model "$1" --image-size "$2" --channels "$3" --data "$data" --device "$device" --no-progress \
    --fp32-epochs 1 --faq-epochs 1 --bits 4 --train-limit "$limit_here" --eval-limit 256 --test-vectors 0 \
    --calib-batches 1 --out "$work/$1" >/dev/null
  python3 - "$work/$1/metrics.json" "$1" "$2" "$device" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<10} {sys.argv[3]:<6} {sys.argv[4]:<8} {m['fp32_epochs'][-1]['images_per_second']:12.0f} {m['faq_epochs'][-1]['images_per_second']:12.0f}")
PY
done
