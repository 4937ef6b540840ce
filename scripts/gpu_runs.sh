#!/usr/bin/env bash
# Fashion-MNIST FAQ experiments on a CUDA machine: builds faq-train against the LibTorch inside the machine's
# PyTorch (no Verilator/Yosys/GTest needed) and runs the runs named on the command line.
# Results (metrics, logs, .faq files) go to $OUT (default out/gpu); results.tar.gz is refreshed after each run.
# Usage: scripts/gpu_runs.sh [resnet20-seeds S1,S2,...] [resnet18] [bench] [dist-resnet20] [dist-resnet18] [speed-resnet20]
#                           [speed-resnet18]
#   dist-*: data-parallel FAQ fine-tuning on 1 and 2 GPUs (NCCL, scripts/launch_local.sh) and the same step in
#   PyTorch Python (scripts/bench_train_python.py), for docs/distributed.md; needs 2 GPUs.
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
  (flock 9; tar -C "$work" -czf "$out/results.tar.gz.tmp" --exclude='*.pt' --exclude='*.safetensors' --exclude='resnet18_*.faq' runs 2>/dev/null
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
# ResNet-18 at 224x224x3 for throughput: FAQ W4A4 fine-tuning of an untrained FP32 network, 2 epochs of 25600
# images (the second is the steady-state figure)
r18_speed=("${common[@]}" --model resnet18 --image-size 224 --channels 3 --fp32-epochs 0 --bits 4 --faq-epochs 2
           --train-limit 25600 --eval-limit 1024 --test-vectors 1 --name resnet18_w4a4)

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
    dist-resnet20)
      # FP32 network, then FAQ W4A4 fine-tuning: 1 GPU and 2 GPUs at the same global batch (the same
      # mathematics: accuracy), 2 GPUs at twice the global batch (throughput at a fixed per-GPU batch),
      # bf16 autocast + channels-last; the Python step at the same batch. A step whose metrics.json exists is kept.
      r=$runs/dist-resnet20 e=${DIST_FAQ_EPOCHS:-5}
      done_run() { [ -f "$1/metrics.json" ]; }
      done_run "$r-fp32" || { log "dist resnet20: FP32 10 epochs (1 GPU)"
        $train "${common[@]}" --model resnet20 --fp32-epochs 10 --faq-epochs 0 --bits 4 --batch 256 --out "$r-fp32" >/dev/null; }
      fq=("${common[@]}" --model resnet20 --from-fp32 "$r-fp32/fp32-e10.pt" --bits 4)
      done_run "$r-1gpu" || { log "dist resnet20: FAQ W4A4 $e epochs, 1 GPU, batch 256"
        $train "${fq[@]}" --faq-batch 256 --faq-epochs "$e" --out "$r-1gpu" >/dev/null; }
      done_run "$r-2gpu" || { log "dist resnet20: FAQ W4A4 $e epochs, 2 GPUs (NCCL), global batch 256"
        scripts/launch_local.sh 2 $train "${fq[@]}" --faq-batch 256 --faq-epochs "$e" --out "$r-2gpu" >"$work/dist-r20-2gpu.log" 2>&1 ||
          { log "2-GPU run failed"; tail -20 "$work/dist-r20-2gpu.log"; }; }
      done_run "$r-2gpu-b512" || { log "dist resnet20: FAQ W4A4 3 epochs, 2 GPUs, global batch 512 (256 per GPU)"
        scripts/launch_local.sh 2 $train "${fq[@]}" --faq-batch 512 --faq-epochs 3 --out "$r-2gpu-b512" >"$work/dist-r20-b512.log" 2>&1 ||
          { log "2-GPU b512 run failed"; tail -20 "$work/dist-r20-b512.log"; }; }
      done_run "$r-1gpu-bf16" || { log "dist resnet20: FAQ W4A4 3 epochs, 1 GPU, bf16 autocast + channels-last"
        $train "${fq[@]}" --faq-batch 256 --faq-epochs 3 --amp bf16 --channels-last --out "$r-1gpu-bf16" >/dev/null || log "bf16 run failed"; }
      if [ -z "${SKIP_PYTHON:-}" ]; then
        for variant in "" "--amp bf16 --channels-last"; do
          log "dist resnet20: PyTorch Python step, batch 256 $variant"
          python3 scripts/bench_train_python.py --model resnet20 --batch 256 --steps 600 --data "$data" $variant | tee -a "$out/python_bench.jsonl"
        done
      fi
      pack
      shift ;;
    speed-resnet20)
      # 1 GPU: faq-train's FAQ W4A4 fine-tuning against the same step in PyTorch Python (float32 and bf16 +
      # channels-last), on one machine in one call. The FP32 network is trained 2 epochs only: speed, not accuracy.
      r=$runs/speed-resnet20
      $train "${common[@]}" --model resnet20 --fp32-epochs 2 --faq-epochs 0 --bits 4 --batch 256 --out "$r-fp32" >/dev/null
      fq=("${common[@]}" --model resnet20 --from-fp32 "$r-fp32/fp32-e2.pt" --bits 4 --faq-batch 256 --faq-epochs 3)
      for variant in "" "--amp bf16 --channels-last"; do
        log "speed resnet20: faq-train $variant"
        $train "${fq[@]}" $variant --out "$r-cpp${variant:+-bf16}" | grep "\[faq\] epoch" | tee -a "$out/gpu_runs.log"
        log "speed resnet20: PyTorch Python $variant"
        python3 scripts/bench_train_python.py --model resnet20 --batch 256 --steps 600 --data "$data" $variant | tee -a "$out/gpu_runs.log"
      done
      shift ;;
    speed-resnet18)
      # 1 GPU: ResNet-18 224 FAQ W4A4 fine-tuning, 2 epochs of 25600 images (the second is the steady-state figure),
      # faq-train against the same step in PyTorch Python, float32/TF32 and bf16 + channels-last, in one call.
      r=$runs/speed-resnet18
      fq=("${r18_speed[@]}" --faq-batch 256)
      for variant in "" "--amp bf16 --channels-last"; do
        log "speed resnet18: faq-train $variant"
        $train "${fq[@]}" $variant --out "$r-cpp${variant:+-bf16}" | grep "\[faq\] epoch" | tee -a "$out/gpu_runs.log"
        log "speed resnet18: PyTorch Python $variant"
        python3 scripts/bench_train_python.py --model resnet18 --batch 256 --steps 100 --warmup 10 --data "$data" $variant | tee -a "$out/gpu_runs.log"
      done
      shift ;;
    dist-resnet18)
      # ResNet-18 at 224x224x3: compute-bound steps. FAQ fine-tuning of the (untrained) FP32 network, 2 epochs of
      # 25600 images (the second one is the steady-state figure): 1 GPU at batch 256, 2 GPUs at global batch 256
      # (strong scaling) and 512 (256 per GPU), 1 GPU with bf16 + channels-last; the Python step at batch 256.
      r=$runs/dist-resnet18
      fq=("${r18_speed[@]}")
      log "dist resnet18: FAQ 2 epochs, 1 GPU, batch 256"
      $train "${fq[@]}" --faq-batch 256 --out "$r-1gpu" >/dev/null || log "failed"
      log "dist resnet18: FAQ 2 epochs, 2 GPUs (NCCL), global batch 256"
      scripts/launch_local.sh 2 $train "${fq[@]}" --faq-batch 256 --out "$r-2gpu" >"$work/dist-r18-2gpu.log" 2>&1 || { log "2-GPU run failed"; tail -20 "$work/dist-r18-2gpu.log"; }
      log "dist resnet18: FAQ 2 epochs, 2 GPUs (NCCL), global batch 512"
      scripts/launch_local.sh 2 $train "${fq[@]}" --faq-batch 512 --out "$r-2gpu-b512" >/dev/null 2>&1 || log "2-GPU b512 run failed"
      log "dist resnet18: FAQ 2 epochs, 1 GPU, bf16 autocast + channels-last"
      $train "${fq[@]}" --faq-batch 256 --amp bf16 --channels-last --out "$r-1gpu-bf16" >/dev/null || log "failed"
      for variant in "" "--amp bf16 --channels-last"; do
        log "dist resnet18: PyTorch Python step, batch 256 $variant"
        python3 scripts/bench_train_python.py --model resnet18 --batch 256 --steps 100 --warmup 10 --data "$data" $variant | tee -a "$out/python_bench.jsonl"
      done
      pack
      shift ;;
    *) log "unknown run '$1'"; exit 2 ;;
  esac
done
log "done"
pack
