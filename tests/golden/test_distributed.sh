#!/usr/bin/env bash
# Data-parallel FAQ fine-tuning on c10d/Gloo: two CPU processes on loopback must produce the network that one
# process makes with the same (global) batch: the same integer weights, biases, shifts and test-vector outputs
# in the .faq, float weights within float32 reduction-order tolerance (1e-4 relative; about 2e-6 seen), and a run
# stopped after one epoch on 2 ranks and resumed on 1 must end the same way.
# Usage: test_distributed.sh FAQ_TRAIN WORK_DIR
set -euo pipefail
train="$1"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# two ranks of `faq-train "$@"` on loopback; fails when either fails
two_ranks() {
  local port pids=() status=0
  port=$(free_port)
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$train" "$@" > "rank$rank.out" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  if [[ $status != 0 ]]; then cat rank0.out rank1.out; return 1; fi
}
common=(--model tiny --train-limit 2048 --eval-limit 512 --no-progress)
"$train" "${common[@]}" --fp32-epochs 1 --faq-epochs 0 --batch 64 --out fp32 > fp32.out
faq=("${common[@]}" --from-fp32 fp32/fp32-e1.pt --faq-epochs 2 --faq-batch 64)
"$train" "${faq[@]}" --out one > one.out
two_ranks "${faq[@]}" --out two
grep -q "2 ranks, gloo" two/log.txt || { echo "FAIL: the 2-rank run did not use Gloo"; cat two/log.txt; exit 1; }
python3 "$here/compare_runs.py" one two tiny_w4a4 1e-4
# checkpoints: 2 ranks stop after epoch 1, one process resumes epoch 2
two_ranks "${faq[@]}" --stop-after 1 --out mixed
grep -q "stopped after epoch 1" mixed/log.txt || { echo "FAIL: the 2-rank run did not stop after epoch 1"; cat mixed/log.txt; exit 1; }
"$train" "${faq[@]}" --out mixed > mixed.out
grep -q "resumed after epoch 1" mixed/log.txt || { echo "FAIL: the 1-process run did not resume"; cat mixed/log.txt; exit 1; }
python3 "$here/compare_runs.py" one mixed tiny_w4a4 1e-4
# a bad environment is a one-line error (exit 2)
set +e
WORLD_SIZE=2 RANK=0 "$train" "${faq[@]}" --out bad > bad.out 2>&1
code=$?
set -e
[[ $code == 2 ]] && grep -q "MASTER_ADDR" bad.out || { echo "FAIL: missing MASTER_ADDR gave exit $code"; cat bad.out; exit 1; }
echo "distributed: 2 Gloo ranks = 1 process (and 2 ranks then 1 after a resume)"
