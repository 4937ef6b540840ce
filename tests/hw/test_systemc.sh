#!/usr/bin/env bash
# SystemC co-simulation (tiny) with a TLM-2.0 DRAM: bit-exact at every DRAM setting, and a slower DRAM (more
# latency, less bandwidth) costs cycles, more for both than for either.
# Usage: test_systemc.sh FAQ_SC_TINY MODEL [FAQ_SC_DEFAULT]
set -u
sc=$1 model=$2 sc_default=${3:-}
pass=0 failures=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
declare -A cycles
for spec in "base|--latency-ns 20 --bytes-per-ns 8" "slow|--latency-ns 100 --bytes-per-ns 8" "narrow|--latency-ns 20 --bytes-per-ns 1" "both|--latency-ns 100 --bytes-per-ns 1"; do
  IFS='|' read -r name args <<<"$spec"
  out=$("$sc" "$model" $args 2>&1 | tail -1)
  if grep -q "^bit-exact: 33/33 layers" <<<"$out"; then ok; else fail "$name: $out"; fi
  cycles[$name]=$(sed -n 's/.*: \([0-9]*\) cycles (cycle model.*/\1/p' <<<"$out")
done
echo "cycles: base ${cycles[base]}, latency 100 ns ${cycles[slow]}, 1 B/ns ${cycles[narrow]}, both ${cycles[both]}"
[ "${cycles[slow]:-0}" -gt "${cycles[base]:-0}" ] && ok || fail "more latency did not cost cycles"
[ "${cycles[narrow]:-0}" -gt "${cycles[base]:-0}" ] && ok || fail "less bandwidth did not cost cycles"
[ "${cycles[both]:-0}" -gt "${cycles[slow]:-0}" ] && [ "${cycles[both]:-0}" -gt "${cycles[narrow]:-0}" ] && ok || fail "both together not slowest"
# default (16x16, 128-bit port): bit-exact at the port's rate
if [ -n "$sc_default" ]; then
  out=$("$sc_default" "$model" --bytes-per-ns 16 2>&1 | tail -1)
  grep -q "^bit-exact: 33/33 layers" <<<"$out" && ok || fail "default: $out"
fi
echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
