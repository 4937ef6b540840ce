#!/usr/bin/env bash
# Fashion-MNIST FAQ experiments on a CUDA machine: builds faq-train against the LibTorch inside the machine's
# PyTorch (no Verilator/Yosys/GTest needed) and runs the runs named on the command line.
# Results (metrics, logs, .faq files) go to $OUT (default out/gpu); results.tar.gz is refreshed after each run.
# Usage: scripts/gpu_runs.sh [resnet20-seeds S1,S2,...] [resnet18] [bench]
# The IDX files are read from .data/fashion-mnist (copied from /usr/share/datasets/fashion-mnist).
set -uo pipefail
out=${OUT:-out/gpu}
work=out/gpu-work
mkdir -p "$out" "$work"
runs=$work/runs
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$out/gpu_runs.log"; }
# $OUT takes at most 8 files: the runs travel as one tarball (without checkpoints and the large .faq files).
# pack is called from concurrent runs and from the TERM trap (a time-boxed call): a lock keeps the tarball whole.
pack() {
  (flock 9; tar -C "$work" -czf "$out/results.tar.gz.tmp" --exclude='*.pt' --exclude='resnet18_*.faq' runs 2>/dev/null
   mv "$out/results.tar.gz.tmp" "$out/results.tar.gz") 9>"$work/.pack.lock"
}
trap 'log "stopped by a signal: packing what finished"; pack; exit 124' TERM INT

data=.data/fashion-mnist-raw
mkdir -p "$data"
for f in .data/fashion-mnist/*.gz; do [ -f "$data/$(basename "$f" .gz)" ] || gunzip -c "$f" >"$data/$(basename "$f" .gz)"; done

prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
log "torch $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.compiled_with_cxx11_abi())')"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$out/gpu_runs.log"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFAQ_BUILD_HW=OFF -DFAQ_BUILD_TESTS=OFF -DFAQ_FMT_HEADER_ONLY=ON \
  -DCMAKE_PREFIX_PATH="$prefix" >"$out/configure.log" 2>&1 || { log "configure failed"; tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu --target faq-train -j "$(nproc)" >"$out/build.log" 2>&1 || { log "build failed"; grep -m20 error "$out/build.log"; exit 1; }
log "built faq-train"
train=build-gpu/golden/faq-train
common=(--data "fashion-mnist:$data" --device cuda --no-progress)

# One seed of the Fashion-MNIST resnet20 recipe: FP32 30 epochs, FAQ W8A8 1 epoch (plus an ablation at the 10x higher
# fine-tuning LR 1e-3 that was the default before), FAQ W4A4 15 epochs from the same FP32 network.
resnet20_seed() {
  local seed=$1 r=$runs/resnet20-s$1
  log "resnet20 seed $seed: FP32 30 epochs + W8A8 1 epoch"
  $train "${common[@]}" --model resnet20 --fp32-epochs 30 --bits 8 --seed "$seed" --out "$r-w8a8" >/dev/null
  log "resnet20 seed $seed: W8A8 1 epoch at fine-tuning LR 1e-3 (ablation)"
  $train "${common[@]}" --model resnet20 --from-fp32 "$r-w8a8/fp32-e30.pt" --bits 8 --faq-lr 1e-3 --seed "$seed" \
    --out "$r-w8a8-lr1e-3" >/dev/null
  log "resnet20 seed $seed: W4A4 15 epochs from the same FP32 network"
  $train "${common[@]}" --model resnet20 --from-fp32 "$r-w8a8/fp32-e30.pt" --bits 4 --faq-epochs 15 --seed "$seed" \
    --out "$r-w4a4" >/dev/null
  log "resnet20 seed $seed: done"
  pack
}

while [ $# -gt 0 ]; do
  case $1 in
    resnet20-seeds)
      # Seeds run side by side: one resnet20 process on 28x28 images leaves most of an H100 idle.
      for seed in $(echo "$2" | tr ',' ' '); do resnet20_seed "$seed" & done
      wait
      pack
      shift 2 ;;
    resnet18)
      r=$runs/resnet18-fmnist224
      e=${R18_FP32_EPOCHS:-8} q=${R18_W4_EPOCHS:-6}
      log "resnet18 224x224x3: FP32 $e epochs + W8A8 1 epoch"
      $train "${common[@]}" --model resnet18 --image-size 224 --channels 3 --fp32-epochs "$e" --batch 256 --bits 8 \
        --name resnet18_w8a8 --test-vectors 1 --out "$r-w8a8" >/dev/null
      cp "$r-w8a8/resnet18_w8a8.faq" "$out/" 2>/dev/null; pack
      log "resnet18 224x224x3: W4A4 $q epochs"
      $train "${common[@]}" --model resnet18 --image-size 224 --channels 3 --from-fp32 "$r-w8a8/fp32-e$e.pt" --batch 256 \
        --bits 4 --faq-epochs "$q" --name resnet18_w4a4 --test-vectors 1 --out "$r-w4a4" >/dev/null
      cp "$r-w4a4/resnet18_w4a4.faq" "$out/" 2>/dev/null
      pack
      shift ;;
    bench)
      log "bench: training images/s"
      OUT="$out" scripts/bench_train.sh "$train" cuda "fashion-mnist:$data" | tee -a "$out/gpu_runs.log"
      pack
      shift ;;
    *) log "unknown run '$1'"; exit 2 ;;
  esac
done
log "done"
pack
