#!/usr/bin/env bash
# faqc compile and faqc run: the trained Fashion-MNIST resnet20 models run bit-exactly on the instruction-level
# simulator for several configurations; models a configuration cannot run are refused with one line and exit 2.
# Usage: test_run.sh FAQC FAQ_SAMPLE MODELS_DIR WORKDIR
set -u
faqc=$1 sample=$2 models=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
pass=0 failures=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for spec in "w4a4 tiny" "w4a4 default" "w4a4 wide" "w8a8 default" "w8a8 tiny"; do
  set -- $spec
  out=$("$faqc" run "$models/fmnist_resnet20_$1.faq" --config "$2" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && grep -q "^bit-exact: 33/33 layers" <<<"$out"; then ok; else fail "run $1 on $2 (exit $rc): $out"; fi
done

"$faqc" compile "$models/fmnist_resnet20_w4a4.faq" --config default -o "$work/r20" --emit asm >/dev/null || fail "compile"
[ -s "$work/r20.prog" ] && [ -s "$work/r20.dram" ] && grep -q "^MATMUL " "$work/r20.s" && ok || fail "compile outputs"
[ "$(head -c 4 "$work/r20.prog")" = FAQP ] && ok || fail "program magic"
json=$("$faqc" compile "$models/fmnist_resnet20_w4a4.faq" --config tiny -o "$work/r20t" --json)
for key in '"layers"' '"instructions"' '"config_hash"' '"macs"' '"cycles"' '"utilization"' '"dram_moved"' '"dram_read"'; do grep -q "$key" <<<"$json" && ok || fail "compile --json lacks $key"; done

# Refusals: a grouped convolution (the sample model) and 8-bit first-layer activations on the 4-bit edge array.
"$sample" "$work/sample.faq" >/dev/null
for spec in "$work/sample.faq|default|layer 'conv3'" "$models/fmnist_resnet20_w4a4.faq|edge|layer 'conv1'"; do
  IFS='|' read -r model config expect <<<"$spec"
  "$faqc" run "$model" --config "$config" >/dev/null 2>"$work/err"
  rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "$expect" "$work/err"; then ok; else fail "$model on $config: exit $rc, $(cat "$work/err")"; fi
done
# The files of an earlier compile run as they are; on another configuration they are refused (hash), and
# truncated or foreign files are refused, each with one line and exit 2.
out=$("$faqc" run "$models/fmnist_resnet20_w4a4.faq" --config default --program "$work/r20" 2>&1)
[ $? -eq 0 ] && grep -q "^bit-exact: 33/33 layers" <<<"$out" && ok || fail "run --program: $out"
head -c 100 "$work/r20.prog" >"$work/short.prog"; cp "$work/r20.dram" "$work/short.dram"
cp "$work/r20.dram" "$work/magic.prog"; cp "$work/r20.dram" "$work/magic.dram"
cp "$work/r20.prog" "$work/odd.prog"; head -c 1000 "$work/r20.dram" >"$work/odd.dram"
for spec in "r20|tiny|configuration hash" "short|default|instructions" "magic|default|not a program file" "odd|default|header says"; do
  IFS='|' read -r prefix config expect <<<"$spec"
  "$faqc" run "$models/fmnist_resnet20_w4a4.faq" --config "$config" --program "$work/$prefix" >/dev/null 2>"$work/err"
  rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "$expect" "$work/err"; then ok; else fail "--program $prefix on $config: exit $rc, $(cat "$work/err")"; fi
done

# --dump-after prints the IR after the named pass (here the first convolution is im2col-expanded), or after all.
out=$("$faqc" compile "$models/fmnist_resnet20_w4a4.faq" --config default -o "$work/d" --dump-after expand-input)
grep -q "^; IR after expand-input" <<<"$out" && grep -q "^input expansion: kernel 3" <<<"$out" && ok || fail "dump-after expand-input"
[ "$("$faqc" compile "$models/fmnist_resnet20_w4a4.faq" --config default -o "$work/d" --dump-after all | grep -c '^; IR after')" -eq 5 ] && ok || fail "dump-after all"
"$faqc" compile "$models/fmnist_resnet20_w4a4.faq" --dump-after nosuchpass >/dev/null 2>&1; [ $? -eq 2 ] && ok || fail "unknown pass accepted"
echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
