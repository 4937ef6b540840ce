#!/usr/bin/env bash
# iCE40 resources of the whole accelerator (faq_accel with its array and post-processing lanes), docs/fpga.md.
#   scripts/ice40_accel.sh CONFIG [modules|board] [OUT]
#   modules  synth_ice40 -spram -dsp -noflatten: faq_accel's own logic, the array and a lane counted apart
#   board    flattened, the performance counters removed first (a board top that does not read them loses them
#            the same way): what a bitstream would hold
# CONFIG: a preset or JSON file (fpga/configs/ has the ones docs/fpga.md measures). Prints one line per module.
# Needs faq-hwgen (build/hw/faq-hwgen, or FAQ_HWGEN) and Yosys. About a minute.
set -euo pipefail
config=${1:?usage: scripts/ice40_accel.sh CONFIG [modules|board] [OUT]}
mode=${2:-modules}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$root/out/ice40_accel/$(basename "${config%.json}")-$mode}
hwgen=${FAQ_HWGEN:-$root/build/hw/faq-hwgen}
[[ -x $hwgen ]] || { echo "ice40_accel: $hwgen not found (make build first, or set FAQ_HWGEN)" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out"
"$hwgen" --config "$config" -o "$out/rtl" >/dev/null
case $mode in
  modules) script="read_verilog -sv $out/rtl/*.v; synth_ice40 -top faq_accel -spram -dsp -noflatten; tee -q -o $out/stat.txt stat" ;;
  board) script="read_verilog -sv $out/rtl/*.v; hierarchy -top faq_accel; proc; cd faq_accel; select -set ff w:perf_* %ci1 c:* %i; delete @ff; cd; opt_clean; synth_ice40 -top faq_accel -spram -dsp; tee -q -o $out/stat.txt stat" ;;
  *) echo "ice40_accel: mode '$mode' is not modules or board" >&2; exit 2 ;;
esac
yosys -q -l "$out/yosys.log" -p "$script" >/dev/null 2>&1 || { echo "ice40_accel: yosys failed, see $out/yosys.log" >&2; exit 1; }
python3 - "$out/stat.txt" "$root/scripts" <<'PY'
import re, sys
sys.path.insert(0, sys.argv[2])
from synthlib import FPGA_FAMILIES, count_cells
kinds = FPGA_FAMILIES["ice40"][1]
for block in re.split(r"\n=== ", "\n" + open(sys.argv[1]).read())[1:]:
    counts = count_cells(block, kinds)
    print(block.split()[0], " ".join(f"{k}={v}" for k, v in counts.items() if v))
PY
