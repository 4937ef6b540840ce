#!/usr/bin/env bash
# faq-board's bad input: a serial port that does not exist, a model file that does not exist, a configuration the
# model cannot run on; each a one-line error and exit 2.
# Usage: test_board_cli.sh FAQ_BOARD MODELS_DIR
set -u
board=$1 models=$2
fails=0
check() {  # check NAME EXPECTED_TEXT ARGS...
  local name=$1 text=$2; shift 2
  local err rc
  err=$("$board" "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 2 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [[ $err != *"$text"* ]]; then
    echo "FAIL $name: exit $rc, stderr: $err"; fails=$((fails + 1))
  fi
}
check port "/nonexistent/tty: cannot open the serial port" "$models/fmnist_resnet20_w4a4.faq" --config tiny --port /nonexistent/tty
check model "missing.faq" missing.faq --port /nonexistent/tty
check layer "layer 'conv1': input is 8-bit" "$models/fmnist_resnet20_w4a4.faq" --port /nonexistent/tty
[ $fails -eq 0 ] && echo "faq-board: 3 bad inputs refused"
[ $fails -eq 0 ]
