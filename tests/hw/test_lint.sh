#!/usr/bin/env bash
# The generated RTL of every preset and of the iCE40 configurations (fpga/configs/) passes `verilator --lint-only -Wall` without a warning, Yosys
# `hierarchy -check; proc; check -assert`, and compiles in Icarus; every file names the configuration hash.
# Usage: test_lint.sh FAQ_HWGEN WORKDIR
set -u
hwgen=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
pass=0 failures=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
root=$(cd "$(dirname "$0")/../.." && pwd)
for preset in tiny default wide edge scalable "$root"/fpga/configs/*.json; do
  dir=$work/$(basename "${preset%.json}")
  "$hwgen" --config "$preset" -o "$dir" >/dev/null || { fail "$preset: faq-hwgen"; continue; }
  files=$(tr '\n' ' ' <"$dir/files.f")
  for f in $files; do grep -q "hash [0-9a-f]\{16\}" "$f" && ok || fail "$f: no configuration hash"; done
  for top in faq_array faq_post faq_accel; do
    out=$(verilator --lint-only -Wall $files --top-module "$top" 2>&1) && [ -z "$out" ] && ok || fail "$preset $top: verilator: $out"
    out=$(yosys -q -p "read_verilog $files; hierarchy -check -top $top; proc; check -assert" 2>&1) && ok || fail "$preset $top: yosys: $out"
  done
  out=$(iverilog -o "$dir/a.out" $files 2>&1) && ok || fail "$preset: iverilog: $out"
done
# the board top level around the UP5K's 4x2 (with the SPRAM's simulation model) and the HX8K's 20x2 (block RAM)
for board in "ice40_4x2 " "hx8k_20x2 -GADDR_BITS=12 -GSPRAM=0 -GLED_ACTIVE_LOW=0"; do
  read -r config params <<<"$board"
  files="$(tr '\n' ' ' <"$work/$config/files.f") $root/fpga/ice40/faq_board.v $root/fpga/ice40/sim/sb_spram256ka.v"
  out=$(verilator --lint-only -Wall -DFAQ_BOARD_SIM $params $files --top-module faq_board 2>&1) && [ -z "$out" ] && ok || fail "faq_board $board: verilator: $out"
  out=$(iverilog -DFAQ_BOARD_SIM ${params//-G/-Pfaq_board.} -o "$work/board.out" $files 2>&1) && ok || fail "faq_board $board: iverilog: $out"
done
"$hwgen" --config nosuchpreset -o "$work/x" >/dev/null 2>"$work/err"
[ $? -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok || fail "unknown preset: $(cat "$work/err")"
echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
