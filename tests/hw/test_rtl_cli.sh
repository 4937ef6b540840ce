#!/usr/bin/env bash
# faq-rtl-tiny on bad input: a program or DRAM image made for another configuration, a truncated program, a model
# without test vectors, a hang (a program that never halts), a MAC energy table lacking a layer's widths — each one
# line and a non-zero exit, never a pass; and --mac-energy with the measured table.
# Usage: test_rtl_cli.sh FAQ_RTL_TINY FAQC FAQ_SAMPLE MODELS_DIR WORKDIR
set -u
rtl=$1 faqc=$2 sample=$3 models=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
pass=0 failures=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
m=$models/fmnist_resnet20_w4a4.faq
"$faqc" compile "$m" --config tiny -o "$work/tiny" >/dev/null || fail "compile tiny"
"$faqc" compile "$m" --config default -o "$work/default" >/dev/null || fail "compile default"
out=$("$rtl" "$m" --program "$work/tiny" 2>&1) && grep -q "^bit-exact: 33/33 layers" <<<"$out" && ok || fail "tiny files: $out"
head -c 200 "$work/tiny.prog" >"$work/short.prog"; cp "$work/tiny.dram" "$work/short.dram"
for spec in "default|configuration hash" "short|instructions"; do
  IFS='|' read -r prefix expect <<<"$spec"
  "$rtl" "$m" --program "$work/$prefix" >/dev/null 2>"$work/err"
  rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "$expect" "$work/err"; then ok; else fail "$prefix: exit $rc, $(cat "$work/err")"; fi
done
# A hang: the accelerator does not raise done within the bound (here forced low) -> one line, exit 1.
"$rtl" "$m" --max-cycles 5000 >"$work/out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$work/out")" -eq 1 ] && grep -q "no done within 5000 cycles" "$work/out" && ok || fail "hang: exit $rc, $(cat "$work/out")"
"$sample" "$work/novec.faq" --tests 0 >/dev/null 2>&1
"$rtl" "$work/novec.faq" >/dev/null 2>"$work/err"
[ $? -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok || fail "no test vectors: $(cat "$work/err")"
# Waveforms of a window of cycles.
out=$("$rtl" "$m" --trace "$work/w.fst" --trace-from 100 --trace-to 400 2>&1) && grep -q "^bit-exact: 33/33" <<<"$out" && [ -s "$work/w.fst" ] && ok || fail "trace: $out"
"$rtl" "$m" --trace /nonexistent/dir/w.fst >/dev/null 2>"$work/err"
[ $? -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok || fail "unwritable trace: $(cat "$work/err")"
# MAC energies from the netlists' table (docs/mac_energy.json): the counters and the model price MACs from it; a
# table lacking a layer's widths is refused before the simulation, one line and exit 2.
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$("$rtl" "$m" --mac-energy "$root/docs/mac_energy.json" 2>&1) && grep -q "^energy from the hardware counters: .*; MACs from .*mac_energy.json" <<<"$out" \
  && ok || fail "--mac-energy: $(grep -m1 energy <<<"$out")"
echo '{"macs": [{"weight_bits": 8, "act_bits": 8, "pj_per_mac": 0.3}]}' >"$work/only8.json"  # no W4A4
"$rtl" "$m" --mac-energy "$work/only8.json" >/dev/null 2>"$work/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "no MAC energy for W4A4" "$work/err" && ok || fail "--mac-energy without W4A4: exit $rc, $(cat "$work/err")"
echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
