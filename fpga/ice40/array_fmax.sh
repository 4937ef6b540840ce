#!/usr/bin/env bash
# Fmax of a configuration's PE array alone on an iCE40 (docs/fpga.md "The array alone"): the generated faq_array
# inside a timing harness (fpga/ice40/array_harness.py: inputs from registers, outputs into registers), synthesized
# as fpga/ice40/bitstream.sh does for the board (synth_ice40, -dsp on the UP5K), placed and routed at several nextpnr
# seeds. Timing only: no bitstream, no buffers, control or post-processing (those are the board's, bitstream.sh).
#   [BOARD=icebreaker|hx8k] [FREQ_MHZ=F] [SEEDS="1 2 3"] fpga/ice40/array_fmax.sh [CONFIG] [OUT]
# BOARD icebreaker: iCE40 UP5K, default CONFIG fpga/configs/ice40_6x6.json, FREQ_MHZ 40; hx8k: iCE40 HX8K, default
# CONFIG fpga/configs/hx8k_8x8.json, FREQ_MHZ 100 (issue 6's goals: a 4-bit array of at least 6x6 PEs at 40 MHz
# on the UP5K, 8x8 at 100 MHz on the HX8K). FREQ_MHZ is nextpnr's target (packing and placement aim at it).
# NEXTPNR_OPTS: more nextpnr-ice40 options (none by default: `--opt-timing`, which bitstream.sh gives the UP5K's
# whole design, made the 6x6 array slower at every seed tried, docs/fpga.md).
# Writes OUT/array_fmax.json (cells of the array alone and of the harness, Fmax per seed: nextpnr's, capped by the
# worst path timed again with icestorm's model, DSP blocks included, which nextpnr mistimes: fpga/ice40/sta.py) and
# prints a summary.
# Exit 2 on bad input, 1 when a tool fails or the harness lost part of the array.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
board=${BOARD:-icebreaker}
case $board in
  icebreaker) chip="iCE40 UP5K"; device="--up5k --package sg48"; pcf=icebreaker.pcf; synth="-dsp"
              default_config=ice40_6x6; default_freq=40 ;;
  hx8k)       chip="iCE40 HX8K"; device="--hx8k --package ct256"; pcf=hx8k-breakout.pcf; synth=""
              default_config=hx8k_8x8; default_freq=100 ;;
  *) echo "array_fmax: BOARD=$board: not a board (icebreaker: iCE40 UP5K, hx8k: iCE40 HX8K), docs/fpga.md" >&2; exit 2 ;;
esac
config=${1:-$root/fpga/configs/$default_config.json}
out=${2:-$root/out/array-fmax/$board-$(basename "${config%.json}")}
freq=${FREQ_MHZ:-$default_freq}
[[ $freq =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "array_fmax: FREQ_MHZ: '$freq' is not a frequency in MHz" >&2; exit 2; }
seeds=${SEEDS:-1 2 3}
for seed in $seeds; do
  [[ $seed =~ ^[0-9]+$ ]] || { echo "array_fmax: SEEDS: '$seed' is not a seed (a number)" >&2; exit 2; }
done
hwgen=${FAQ_HWGEN:-$root/build/hw/faq-hwgen}
[[ -x $hwgen ]] || { echo "array_fmax: $hwgen not found (make build first, or set FAQ_HWGEN)" >&2; exit 2; }
for tool in yosys nextpnr-ice40; do
  command -v $tool >/dev/null || { echo "array_fmax: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
rm -rf "$out" && mkdir -p "$out"
# faq-hwgen's own one-line message names the configuration and the field (exit 2)
"$hwgen" --config "$config" -o "$out/rtl" >/dev/null
python3 "$root/fpga/ice40/array_harness.py" "$out/rtl/faq_array.v" "$out/harness.v"
rtl="$out/rtl/faq_pe.v $out/rtl/faq_array.v"
# the array alone, as the reference for the harness's cell count
yosys -q -l "$out/yosys_array.log" -p "read_verilog -sv $rtl; synth_ice40 $synth -top faq_array; tee -q -o $out/stat_array.txt stat" >/dev/null 2>&1 \
  || { echo "array_fmax: yosys failed on faq_array, see $out/yosys_array.log" >&2; exit 1; }
yosys -q -l "$out/yosys.log" -p "read_verilog -sv $rtl $out/harness.v; synth_ice40 $synth -top faq_array_harness -json $out/harness.json;
  tee -q -o $out/stat.txt stat" >/dev/null 2>&1 || { echo "array_fmax: yosys failed, see $out/yosys.log" >&2; exit 1; }
pids=() seed_list=($seeds)
for seed in "${seed_list[@]}"; do
  FAQ_NET_DELAYS=$out/routes_seed$seed.json nextpnr-ice40 $device --pcf "$root/fpga/ice40/$pcf" --json "$out/harness.json" \
    --freq "$freq" --seed "$seed" ${NEXTPNR_OPTS:-} --timing-allow-fail --report "$out/report_seed$seed.json" \
    --post-route "$root/fpga/ice40/net_delays.py" >"$out/nextpnr_seed$seed.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  seed=${seed_list[$i]}
  wait "${pids[$i]}" || { echo "array_fmax: nextpnr-ice40 failed at seed $seed, see $out/nextpnr_seed$seed.log" >&2; exit 1; }
done
# timed again with icestorm's model, DSP blocks included, which nextpnr mistimes (fpga/ice40/sta.py): its worst path
# caps each seed's Fmax
for seed in "${seed_list[@]}"; do
  python3 "$root/fpga/ice40/sta.py" "$out/routes_seed$seed.json" 1e9 >"$out/sta_seed$seed.json" \
    || { echo "array_fmax: fpga/ice40/sta.py failed on seed $seed" >&2; exit 1; }
done
python3 - "$out" "$config" "$chip" "$freq" $seeds <<'PY'
import json, re, sys
out, config, chip, freq, seeds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:]
def cells(path):
    counts = dict((m.group(1), int(m.group(2))) for m in re.finditer(r"^\s+(SB_\w+)\s+(\d+)\s*$", open(path).read(), re.M))
    return {"lut4": counts.get("SB_LUT4", 0), "carry": counts.get("SB_CARRY", 0),
            "ff": sum(v for k, v in counts.items() if k.startswith("SB_DFF")), "dsp": counts.get("SB_MAC16", 0)}
array, whole = cells(f"{out}/stat_array.txt"), cells(f"{out}/stat.txt")
# the harness holds the whole array: at least as many cells of every kind as the array synthesized alone
lost = [k for k in array if whole[k] < array[k]]
if lost:
    print(f"array_fmax: {config}: the harness has fewer {', '.join(lost)} cells than the array alone ({whole} < {array})", file=sys.stderr)
    sys.exit(1)
fmax, sta_ns, lc = {}, {}, None
for seed in seeds:
    r = json.load(open(f"{out}/report_seed{seed}.json"))
    sta_ns[seed] = json.load(open(f"{out}/sta_seed{seed}.json"))["critical_path_ns"]
    # nextpnr's Fmax, capped by the worst path in icestorm's model with the DSP blocks timed
    fmax[seed] = round(min([v["achieved"] for v in r["fmax"].values()] + [1000 / sta_ns[seed]]), 2)
    lc = r["utilization"]["ICESTORM_LC"]
report = {"config": config, "device": chip, "target_mhz": freq, "array_cells": array, "harness_cells": whole,
          "logic_cells": lc, "fmax_mhz": fmax, "sta_path_ns": sta_ns}
json.dump(report, open(f"{out}/array_fmax.json", "w"), indent=2)
met = sum(1 for f in fmax.values() if f >= freq)
print(f"{config}: PE array alone on the {chip}: {array['lut4']} LUT4, {array['carry']} carry, {array['ff']} FF"
      f"{', %d SB_MAC16' % array['dsp'] if array['dsp'] else ''}; with the harness {lc['used']}/{lc['available']} logic cells; "
      f"Fmax {', '.join(f'{f} (seed {s})' for s, f in fmax.items())} MHz: {met} of {len(fmax)} seeds at {freq:g} MHz or more")
PY
