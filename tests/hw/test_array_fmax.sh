#!/usr/bin/env bash
# fpga/ice40/array_fmax.sh: the PE array of a small configuration (fpga/configs/ice40_2x2.json) in its timing harness
# places and routes on the UP5K at one seed, the report holds the array's cells (the harness lost none) and an Fmax;
# an array whose products map to DSP blocks is timed with them (its Fmax below nextpnr's, which leaves them out);
# bad input (a seed that is not a number, an invalid configuration, a file without faq_array) is exit 2 with one line.
# Usage: test_array_fmax.sh FAQ_HWGEN WORKDIR
set -u
hwgen=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
config=$root/fpga/configs/ice40_2x2.json
out=$(FAQ_HWGEN=$hwgen SEEDS=1 FREQ_MHZ=30 "$root/fpga/ice40/array_fmax.sh" "$config" "$work/2x2" 2>&1) || { echo "FAIL: $out"; exit 1; }
echo "$out"
python3 - "$work/2x2/array_fmax.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
a, h, lc = r["array_cells"], r["harness_cells"], r["logic_cells"]
# a 2x2 W4A4 array of Booth PEs: LUTs and carries for its adders, two weight banks of flip-flops per PE
assert a["lut4"] > 0 and a["carry"] > 0 and a["ff"] >= 4 * 2 * 4, a
assert all(h[k] >= a[k] for k in a), (h, a)
assert lc["used"] >= a["lut4"] and lc["available"] == 5280, lc
assert list(r["fmax_mhz"]) == ["1"] and r["fmax_mhz"]["1"] > 0, r["fmax_mhz"]
# its 4-bit products stay in LUTs: no DSP block, nothing for the DSP paths' bound to cap
# no DSP block; every path timed again in icestorm's model (fpga/ice40/sta.py), whose worst caps nextpnr's Fmax
assert a["dsp"] == 0 and r["sta_path_ns"]["1"] > 0 and r["fmax_mhz"]["1"] <= round(1000 / r["sta_path_ns"]["1"], 2), r
print("report:", r["fmax_mhz"], lc)
PY
# 8-bit products map to DSP blocks, here fed through the weight bank's selection: nextpnr leaves their multipliers
# out, and the Fmax reported is the worst path's with them timed (fpga/ice40/sta.py), below nextpnr's
python3 -c "import json, sys; c = json.load(open(sys.argv[1])); c.update(weight_bits=8, act_bits=8, acc_bits=20); c.pop('pe_booth', None); json.dump(c, open(sys.argv[2], 'w'))" \
  "$config" "$work/w8.json"
out=$(FAQ_HWGEN=$hwgen SEEDS=1 FREQ_MHZ=30 "$root/fpga/ice40/array_fmax.sh" "$work/w8.json" "$work/w8" 2>&1) \
  || { echo "FAIL: an array of DSP products: $out"; exit 1; }
python3 - "$work/w8/array_fmax.json" "$work/w8/report_seed1.json" <<'PY' || exit 1
import json, sys
r, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
nextpnr = p["fmax"][next(iter(p["fmax"]))]["achieved"]
timed = r["sta_path_ns"]["1"]
assert r["array_cells"]["dsp"] > 0 and timed > 0 and r["fmax_mhz"]["1"] == round(1000 / timed, 2) < nextpnr, (r, nextpnr)
print(f"DSP products: Fmax {r['fmax_mhz']['1']} MHz with their multipliers timed, {nextpnr:.2f} by nextpnr")
PY
bad() {  # bad NAME EXPECTED-START ENV... -- ARGS...: exit 2 and one line starting with EXPECTED-START
  local name=$1 expected=$2; shift 2
  local envs=(); while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  msg=$(env FAQ_HWGEN="$hwgen" "${envs[@]}" "$root/fpga/ice40/array_fmax.sh" "$@" 2>&1); rc=$?
  [ $rc -eq 2 ] || { echo "FAIL: $name: exit $rc, expected 2 ($msg)"; exit 1; }
  [ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] && [[ $msg == "$expected"* ]] || { echo "FAIL: $name: not the one-line error: $msg"; exit 1; }
  echo "bad input, $name: $msg"
}
bad "seed" "array_fmax: SEEDS: 'x'" SEEDS=x -- "$config" "$work/bad"
bad "board" "array_fmax: BOARD=nope:" BOARD=nope -- "$config" "$work/bad"
echo '{"rows": 0}' > "$work/rows0.json"
bad "configuration" "faq-hwgen: $work/rows0.json: field 'rows'" SEEDS=1 -- "$work/rows0.json" "$work/bad"
echo "module other; endmodule" > "$work/other.v"
msg=$(python3 "$root/fpga/ice40/array_harness.py" "$work/other.v" "$work/h.v" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == "array_harness: $work/other.v: no 'module faq_array ('"* ]] || { echo "FAIL: harness of a file without faq_array: exit $rc: $msg"; exit 1; }
echo "bad input, harness: $msg"
echo "array_fmax: flow and bad input checked"
