#!/usr/bin/env bash
# Runs N ranks of a data-parallel command on this machine, with the environment c10d's TCPStore rendezvous reads
# (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT: a free port unless set). Rank r's output goes to
# stdout with an "[r]" prefix. When one rank fails, the others are stopped; Ctrl-C stops all. Exit: the first
# failing rank's status, else 0.
# Usage: scripts/launch_local.sh N COMMAND [ARGS...]
#   e.g. scripts/launch_local.sh 2 build/golden/faq-train --model resnet20 --bits 4 --device cuda --out runs/r20
set -uo pipefail
if [[ $# -lt 2 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: launch_local.sh N COMMAND [ARGS...]" >&2
  exit 2
fi
n=$1
shift
port=${MASTER_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
pids=()
stop() { kill "${pids[@]}" 2> /dev/null; }
trap 'stop; exit 130' INT TERM
for ((rank = 0; rank < n; rank++)); do
  RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" > >(sed -u "s/^/[$rank] /") 2>&1 &
  pids+=($!)
done
status=0
while ((${#pids[@]} > 0)); do
  wait -n -p done_pid "${pids[@]}"
  code=$?
  remaining=()
  for p in "${pids[@]}"; do [[ $p != "$done_pid" ]] && remaining+=("$p"); done
  pids=("${remaining[@]}")
  if [[ $code != 0 && $status == 0 ]]; then
    status=$code
    echo "launch_local.sh: a rank exited with status $code; stopping the others" >&2
    stop
  fi
done
exit $status
