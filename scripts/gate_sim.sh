#!/usr/bin/env bash
# Gate-level simulation of the accelerator: faq-hwgen generates the RTL of CONFIG, Yosys synthesizes it onto the
# OSU 0.18 um standard cells (synth -flatten, dfflibmap + abc -liberty osu018_stdcells.lib; buffers become
# flip-flops, so keep CONFIG's buffers small) and writes the mapped netlist; Icarus simulates the netlist with the
# library's own cell models (osu018_stdcells.v, zero-delay) and the behavioural RTL under the same testbench
# (sim/gate/tb_faq_accel.v); faq-gate-check runs random layers on both and requires the reference's outputs from
# each and identical cycles and DRAM bytes from the two.
# With CELLS=ice40 the netlist is the iCE40's instead (synth_ice40: LUT4, carry chains, flip-flops and the block RAMs
# Yosys infers, as in a bitstream; CELLS=ice40-dsp with -dsp, the UP5K's SB_MAC16), simulated with Yosys's own iCE40
# cell models (ice40/cells_sim.v; their flip-flops start at 0, as the device's do after configuration).
# Usage: scripts/gate_sim.sh [CONFIG] [LAYERS] [SEED]   (default: sim/gate/micro.json, 3 layers, seed 1)
# Environment: BUILD (build folder, default build), OUT (work folder, default out/gate), CELLS (osu018, the default;
# ice40; ice40-dsp)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
config="${1:-$root/sim/gate/micro.json}"
layers="${2:-3}"
seed="${3:-1}"
build="${BUILD:-$root/build}"
out="${OUT:-$root/out/gate}"
library="${CELLS:-osu018}"
cells=/usr/share/qflow/tech/osu018
ice40_models=/usr/share/yosys/ice40/cells_sim.v
for tool in yosys iverilog vvp; do
  command -v "$tool" > /dev/null || { echo "gate_sim.sh: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
case $library in
  osu018) [[ -f $cells/osu018_stdcells.lib ]] || { echo "gate_sim.sh: $cells/osu018_stdcells.lib missing (qflow-tech-osu018)" >&2; exit 2; } ;;
  ice40|ice40-dsp) [[ -f $ice40_models ]] || { echo "gate_sim.sh: $ice40_models missing (yosys)" >&2; exit 2; } ;;
  *) echo "gate_sim.sh: CELLS: '$library' is not osu018, ice40 or ice40-dsp" >&2; exit 2 ;;
esac
mkdir -p "$out"
"$build/hw/faq-hwgen" --config "$config" -o "$out/rtl" > /dev/null
port_bits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mem_port_bits"])' "$out/rtl/config.json")
mapfile -t rtl < "$out/rtl/files.f"
start=$(date +%s)
if [[ $library == osu018 ]]; then
  yosys -q -l "$out/yosys.log" -p "read_verilog ${rtl[*]}; synth -flatten -top faq_accel; dfflibmap -liberty $cells/osu018_stdcells.lib;
    abc -liberty $cells/osu018_stdcells.lib; opt_clean -purge; tee -q -o $out/gate_stat.txt stat -liberty $cells/osu018_stdcells.lib;
    write_verilog -noattr $out/gate.v"
  echo "synthesized faq_accel ($(grep -m1 'Chip area' "$out/gate_stat.txt" | sed 's/^ *//')) in $(( $(date +%s) - start )) s"
  models=("$cells/osu018_stdcells.v")
else
  yosys -q -l "$out/yosys.log" -p "read_verilog ${rtl[*]}; synth_ice40 $([[ $library == ice40-dsp ]] && echo -dsp) -top faq_accel;
    tee -q -o $out/gate_stat.txt stat; write_verilog -noattr $out/gate.v"
  echo "synthesized faq_accel for the iCE40 ($(awk '/SB_LUT4|SB_RAM40_4K|SB_MAC16/ {printf "%s%s %s", sep, $2, $1; sep=", "}' "$out/gate_stat.txt")) in $(( $(date +%s) - start )) s"
  # (Icarus takes no default values on ports, so the models are read without them: Yosys's netlist connects every
  # port of its LUTs, flip-flops and block RAMs)
  models=(-DNO_ICE40_DEFAULT_ASSIGNMENTS "$ice40_models")
fi
iverilog -g2012 -P tb_faq_accel.PB="$port_bits" -o "$out/rtl.vvp" "$root/sim/gate/tb_faq_accel.v" "${rtl[@]}"
# (the OSU cell models' specify blocks carry min:typ:max delays; Icarus notes each choice of typ: not shown)
iverilog -g2012 -P tb_faq_accel.PB="$port_bits" -o "$out/gate.vvp" "$root/sim/gate/tb_faq_accel.v" "$out/gate.v" "${models[@]}" \
  2> >(grep -v "choosing typ expression" >&2)
"$build/tests/faq-gate-check" --config "$config" --rtl "$out/rtl.vvp" --gate "$out/gate.vvp" --layers "$layers" --seed "$seed" --work "$out/vectors"
