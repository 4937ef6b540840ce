#!/usr/bin/env bash
# An iCE40 bitstream of the accelerator with its board top level (fpga/ice40/faq_board.v), docs/fpga.md.
#   [BOARD=icebreaker|hx8k] fpga/ice40/bitstream.sh [CONFIG] [OUT]      (make bitstream BOARD=... CONFIG=...)
# BOARD icebreaker: iCE40 UP5K (SG48), memory in its four SPRAMs (CONFIG's dram_addr_bits 17), multipliers in its
#   DSPs; default CONFIG fpga/configs/ice40_4x2.json, FREQ_MHZ 28.5 (nextpnr with --opt-timing).
# BOARD hx8k: the iCE40-HX8K breakout board (CT256), memory in 8 block RAMs (dram_addr_bits 12), no multipliers
#   (a digit-serial post-processing lane: post_mult_cycles); default CONFIG fpga/configs/hx8k_20x2.json, FREQ_MHZ 63.
# CONFIG: a preset or JSON file with mem_port_bits 16 or 32. FREQ_MHZ: the PLL's output (nextpnr's target is the
# frequency the PLL achieves for it, icepll's).
# Writes OUT/faq_board.{json,asc,bin}, OUT/nextpnr.log, OUT/report.json (utilization and Fmax from nextpnr),
# OUT/routes.json (the routed design's timing graph, fpga/ice40/net_delays.py), OUT/sta.json (the design timed again
# with icestorm's model, DSP blocks included, which nextpnr mistimes, by fpga/ice40/sta.py: the build fails unless it
# meets the clock; OUT/timing.md its report: the worst path pin by pin, the worst paths by register pair, the endpoints
# by path length), OUT/cells.json (the logic cells by part, fpga/ice40/cells.py) and prints a summary. Needs
# faq-hwgen (build/hw/faq-hwgen or FAQ_HWGEN), Yosys, nextpnr-ice40, icepack, icepll and icestorm's timing model
# (fpga-icestorm-chipdb).
# SEEDS="2 3": also places and routes the same netlist with these nextpnr seeds (timing only: OUT/report_seedN.json,
# OUT/routes_seedN.json, OUT/timing_seedN.md, OUT/nextpnr_seedN.log) and prints each one's Fmax, since one seed's
# Fmax varies by a few % with the placement.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
board=${BOARD:-icebreaker}
case $board in
  icebreaker) chip="iCE40 UP5K"; device="--up5k --package sg48"; pcf=icebreaker.pcf; addr_bits=17; memory="the board's 128 KiB of SPRAM"
              top="-set SPRAM 1 -set LED_ACTIVE_LOW 1 -set PLL_PAD 1"; synth="-spram -dsp"; default_config=ice40_4x2; default_freq=28.5
              pnr="--opt-timing" ;;
  hx8k)       chip="iCE40 HX8K"; device="--hx8k --package ct256"; pcf=hx8k-breakout.pcf; addr_bits=12; memory="the board's 4 KiB of block RAM"
              top="-set SPRAM 0 -set LED_ACTIVE_LOW 0 -set PLL_PAD 0"; synth=""; default_config=hx8k_20x2; default_freq=63
              pnr="" ;;
  *) echo "bitstream: BOARD=$board: not a board with a top level (icebreaker: iCE40 UP5K, hx8k: iCE40 HX8K), docs/fpga.md" >&2; exit 2 ;;
esac
config=${1:-$root/fpga/configs/$default_config.json}
out=${2:-$root/out/bitstream/$board-$(basename "${config%.json}")}
freq=${FREQ_MHZ:-$default_freq}
for seed in ${SEEDS:-}; do
  [[ $seed =~ ^[0-9]+$ ]] || { echo "bitstream: SEEDS: '$seed' is not a seed (a number)" >&2; exit 2; }
done
hwgen=${FAQ_HWGEN:-$root/build/hw/faq-hwgen}
[[ -x $hwgen ]] || { echo "bitstream: $hwgen not found (make build first, or set FAQ_HWGEN)" >&2; exit 2; }
for tool in yosys nextpnr-ice40 icepack icepll; do
  command -v $tool >/dev/null || { echo "bitstream: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
rm -rf "$out" && mkdir -p "$out"
"$hwgen" --config "$config" -o "$out/rtl" >/dev/null
header=$(sed -n '2p' "$out/rtl/faq_accel.v")
port=$(sed -n 's|.*mem_port_bits=\([0-9]*\);.*|\1|p' <<<"$header")
addr=$(sed -n 's|.*dram_addr_bits=\([0-9]*\);.*|\1|p' <<<"$header")
[[ $port == 16 || $port == 32 ]] || { echo "bitstream: $config: field 'mem_port_bits' must be 16 or 32 for the board (got $port)" >&2; exit 2; }
[[ $addr == "$addr_bits" ]] || { echo "bitstream: $config: field 'dram_addr_bits' must be $addr_bits for $board ($memory; got ${addr:-32})" >&2; exit 2; }
# the PLL: 12 MHz in, FREQ_MHZ out
pll=$(icepll -i 12 -o "$freq" 2>&1)
get() { sed -n "s/^$1: *\([0-9]*\) .*/\1/p" <<<"$pll"; }
achieved=$(sed -n 's/^F_PLLOUT: *\([0-9.]*\) MHz (achieved)/\1/p' <<<"$pll")
params="-set PORT_BITS $port -set ADDR_BITS $addr $top -set CLK_HZ $(python3 -c "print(round($achieved * 1e6))") -set PLL_DIVR $(get DIVR) -set PLL_DIVF $(get DIVF) -set PLL_DIVQ $(get DIVQ) -set PLL_FILTER $(get FILTER_RANGE)"
# the performance counters are deleted first: the board does not read them (docs/fpga.md)
yosys -q -l "$out/yosys.log" -p "read_verilog -sv $out/rtl/*.v; read_verilog $root/fpga/ice40/faq_board.v; chparam $params faq_board;
  hierarchy -top faq_board; proc; cd faq_accel; select -set ff w:perf_* %ci1 c:* %i; delete @ff; cd; opt_clean;
  synth_ice40 -top faq_board $synth -json $out/faq_board.json; tee -q -o $out/stat.txt stat" >/dev/null 2>&1 \
  || { echo "bitstream: yosys failed, see $out/yosys.log" >&2; exit 1; }
# nextpnr at the PLL's clock, writing the routed timing graph: place_and_route SEED REPORT LOG ROUTES [options]
place_and_route() {
  FAQ_NET_DELAYS=$4 nextpnr-ice40 $device --pcf "$root/fpga/ice40/$pcf" --json "$out/faq_board.json" --freq "$achieved" \
    --seed "$1" --report "$2" --post-route "$root/fpga/ice40/net_delays.py" $pnr "${@:5}" >"$3" 2>&1
}
# a configuration the device cannot hold is bad input (exit 2, naming the first resource it overflows); any other
# nextpnr failure is the flow's (exit 1)
does_not_fit() {
  sed -n 's/^Info:[[:space:]]*\([A-Z_0-9]*\):[[:space:]]*\([0-9]*\)\/[[:space:]]*\([0-9]*\).*/\1 \2 \3/p' "$out/nextpnr.log" \
    | awk '$2 > $3 { printf "%d %s needed, %d there\n", $2, $1, $3; exit }'
}
place_and_route 1 "$out/report.json" "$out/nextpnr.log" "$out/routes.json" --asc "$out/faq_board.asc" || {
  over=$(does_not_fit)
  [[ -z $over ]] || { echo "bitstream: $config does not fit the $chip: $over (see $out/nextpnr.log)" >&2; exit 2; }
  { echo "bitstream: nextpnr-ice40 failed, see $out/nextpnr.log"; grep -E "ICESTORM_LC|ERROR" "$out/nextpnr.log" | head -5; } >&2
  exit 1
}
icepack "$out/faq_board.asc" "$out/faq_board.bin"
# the design timed again with icestorm's model, DSP blocks included, which nextpnr-ice40 mistimes (fpga/ice40/sta.py)
period=$(python3 -c "print(1000 / $achieved)")
sta=$(python3 "$root/fpga/ice40/sta.py" "$out/routes.json" "$period" --report "$out/timing.md") \
  || { echo "bitstream: timed with icestorm's model the design does not meet the clock (fpga/ice40/sta.py, docs/fpga.md)" >&2; exit 1; }
echo "$sta" >"$out/sta.json"
# where the logic cells go: the PE array, the lanes, the accelerator's control, the board top level (fpga/ice40/cells.py)
python3 "$root/fpga/ice40/cells.py" "$out/routes.json" >"$out/cells.json" \
  || { echo "bitstream: fpga/ice40/cells.py failed on $out/routes.json" >&2; exit 1; }
# a summary's ending for sta.py's result: its JSON or its error
sta_note() {
  python3 -c 'import json, sys
try:
    d = json.loads(sys.argv[1])
    worst, dsp, path = d["critical_path_ns"], d["dsp_paths_ns"], d["critical_path"]
    start, end, cells = path["from"], path["to"], path["cells"]
    print(f"; timed again (sta.py): worst path {worst} ns ({start} to {end}, {cells} cells)"
          + (f", through DSP blocks {dsp} ns" if d["dsp_blocks"] else ""))
except ValueError:
    print(f"; {sys.argv[1]}")' "$1"
}
python3 - "$out/report.json" "$out/faq_board.bin" "$achieved" "$(sta_note "$sta")" "$out/cells.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
util = {k: f"{v['used']}/{v['available']}" for k, v in r["utilization"].items() if v["used"]}
fmax = {k: round(v["achieved"], 1) for k, v in r["fmax"].items()}
parts = ", ".join(f"{k} {v}" for k, v in json.load(open(sys.argv[5]))["by_part"].items())
print(f"{sys.argv[2]}: {os.path.getsize(sys.argv[2])} bytes; clock {sys.argv[3]} MHz; Fmax {fmax}; {util}{sys.argv[4]}; "
      f"logic cells: {parts}")
PY
for seed in ${SEEDS:-}; do
  place_and_route "$seed" "$out/report_seed$seed.json" "$out/nextpnr_seed$seed.log" "$out/routes_seed$seed.json" --timing-allow-fail \
    || { echo "bitstream: nextpnr-ice40 failed at seed $seed, see $out/nextpnr_seed$seed.log" >&2; exit 1; }
  # (a seed that misses the clock in sta.py's timing fails like one whose Fmax does: reported, not fatal)
  bound=$(python3 "$root/fpga/ice40/sta.py" "$out/routes_seed$seed.json" "$period" --report "$out/timing_seed$seed.md" 2>&1 | tail -1) || true
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(f"seed {sys.argv[2]}: Fmax", {k: round(v["achieved"], 1) for k, v in r["fmax"].items()}, end=sys.argv[3] + "\n")' \
    "$out/report_seed$seed.json" "$seed" "$(sta_note "$bound")"
done
