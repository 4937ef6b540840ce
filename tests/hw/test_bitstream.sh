#!/usr/bin/env bash
# The iCE40 bitstream of a board's configuration builds from the generated RTL (fpga/ice40/bitstream.sh: Yosys,
# nextpnr-ice40, icepack), nextpnr's Fmax meets the PLL's clock and so does the design timed again with icestorm's
# model, DSP blocks included, which nextpnr mistimes (fpga/ice40/sta.py, with its report); the logic cells counted by
# part cover the device's count (fpga/ice40/cells.py); on the HX8K a configuration too big for the device is refused
# as bad input. A few minutes.
# Usage: test_bitstream.sh FAQ_HWGEN WORKDIR BOARD (icebreaker: fpga/configs/ice40_4x2.json, hx8k: hx8k_20x2.json)
set -u
hwgen=$1 work=$2 board=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"
out=$(BOARD=$board FAQ_HWGEN=$hwgen "$root/fpga/ice40/bitstream.sh" "" "$work" 2>&1) || { echo "FAIL: $out"; exit 1; }
echo "$out"
[ -s "$work/faq_board.bin" ] || { echo "FAIL: no faq_board.bin"; exit 1; }
python3 - "$work/report.json" "$work/sta.json" "$board" "$work/cells.json" "$work/timing.md" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
fmax = r["fmax"]["clk"]
used = r["utilization"]["ICESTORM_LC"]
print(f"clk: {fmax['achieved']:.1f} MHz achieved, {fmax['constraint']:.1f} MHz constraint; {used['used']}/{used['available']} logic cells")
# the design timed again in icestorm's model, within the clock's period (the UP5K's lane has DSP blocks, the HX8K
# none)
d = json.load(open(sys.argv[2]))
print("timed again:", d)
dsp_used = r["utilization"].get("ICESTORM_DSP", {"used": 0})["used"]
assert d["dsp_blocks"] == dsp_used and (dsp_used > 0) == (sys.argv[3] == "icebreaker"), (d, dsp_used)
assert abs(d["period_ns"] - 1000 / fmax["constraint"]) < 0.01, d
assert 0 < d["critical_path_ns"] <= d["period_ns"] and (0 < d["dsp_paths_ns"] <= d["critical_path_ns"]) == (dsp_used > 0), d
assert d["worst_groups"][0][3] == d["critical_path_ns"] and d["endpoints"] > 1000, d["worst_groups"][0]
assert f"Worst path **{d['critical_path_ns']} ns**" in open(sys.argv[5]).read()
# the logic cells by part: every one counted once, each part of the design present
c = json.load(open(sys.argv[4]))
print("logic cells by part:", c["by_part"], "; control's largest:", list(c["by_signal"].items())[:4])
assert c["logic_cells"] == sum(c["by_part"].values()) == used["used"], (c, used)
assert all(c["by_part"][p] > 0 for p in ("PE array", "post-processing lanes", "accelerator control", "board top level")), c
sys.exit(0 if fmax["achieved"] >= fmax["constraint"] else 1)
PY
# A configuration the device cannot hold is bad input: exit 2 and one line naming the configuration and the
# resource it overflows (the HX8K's: a 24x2 array needs more than it has; about 30 s)
if [ "$board" = hx8k ]; then
  big=$root/tests/configs/hx8k_24x2.json
  msg=$(BOARD=$board FAQ_HWGEN=$hwgen "$root/fpga/ice40/bitstream.sh" "$big" "$work-too-big" 2>&1); rc=$?
  [ $rc -eq 2 ] || { echo "FAIL: $big: exit $rc, expected 2 ($msg)"; exit 1; }
  [ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] && [[ $msg == "bitstream: $big does not fit the iCE40 HX8K: "*" needed, "*" there (see "*")" ]] \
    || { echo "FAIL: $big: not the one-line fit error: $msg"; exit 1; }
  echo "too big: $msg"
fi
