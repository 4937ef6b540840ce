#!/usr/bin/env bash
# fpga/ice40/sta.py on small designs placed and routed on the UP5K with fpga/ice40/net_delays.py: a product read
# from a combinational DSP block into logic is timed through its multiplier, which nextpnr leaves out; a path out of a
# block's output register starts at the register's clock-to-output of icestorm's model, not nextpnr's 0.1 ns; with
# that 0.1 ns put back in the model, its timing of the routed design agrees with nextpnr's; a period the worst path
# exceeds fails (exit 1); a design without DSP blocks is timed as nextpnr times it; the worst path is named by its
# ends; the paths grouped by register pair cover every endpoint, and the report lists the worst path pin by pin;
# unreadable input and an unwritable report are bad input (exit 2). fpga/ice40/cells.py counts every logic cell once.
# Seconds. Usage: test_sta.sh WORKDIR
set -u
work=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
check=$root/fpga/ice40/sta.py
model=/usr/share/fpga-icestorm/chipdb/timings_up5k.txt
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# `into_logic`: 16 x 16 products of registers with a synchronous reset (which a DSP block's registers lack, so the
# block is combinational), xored with a register; `pipelined`: a product in the block's output register, added to a
# register by a 32-bit carry chain; `no_dsp`: that adder alone
cat > d.v <<'EOF'
module into_logic(input clk, input rst, input din, output reg dout);
  reg [47:0] sh; reg [15:0] a, b; reg [31:0] p;
  always @(posedge clk) begin
    sh <= {sh[46:0], din};
    if (rst) begin a <= 0; b <= 0; end else begin a <= sh[15:0]; b <= sh[31:16]; end
    p <= (a * b) ^ {sh[47:32], sh[47:32]};
    dout <= ^p;
  end
endmodule
module pipelined(input clk, input din, output reg dout);
  reg [63:0] sh; reg [15:0] a, b; reg [31:0] p, s;
  always @(posedge clk) begin
    sh <= {sh[62:0], din}; a <= sh[15:0]; b <= sh[31:16];
    p <= a * b; s <= p + sh[63:32];
    dout <= ^s;
  end
endmodule
module no_dsp(input clk, input din, output reg dout);
  reg [63:0] sh; reg [31:0] s;
  always @(posedge clk) begin sh <= {sh[62:0], din}; s <= sh[31:0] + sh[63:32]; dout <= ^s; end
endmodule
EOF
for top in into_logic pipelined no_dsp; do
  yosys -q -p "read_verilog d.v; synth_ice40 -dsp -top $top -json $top.json" >"$top.log" 2>&1 || { echo "FAIL: yosys $top"; cat "$top.log"; exit 1; }
  FAQ_NET_DELAYS=$top.routes.json nextpnr-ice40 --up5k --package sg48 --json $top.json --freq 20 --report $top.report.json \
    --post-route "$root/fpga/ice40/net_delays.py" >"$top.pnr.log" 2>&1 || { echo "FAIL: nextpnr $top"; tail -5 "$top.pnr.log"; exit 1; }
done
# the model with every DSP output register's clock-to-output at nextpnr's 0.1 ns
awk '/^CELL/ { c = $2 } { if (c ~ /^SB_MAC16/ && $1 == "IOPATH" && $2 == "posedge:CLK") print $1, $2, $3, "100:100:100", "100:100:100"; else print }' \
  "$model" > nextpnr_dsp.txt

result() {  # result NAME PERIOD [ENV...]: sta.py's line, exit 0 expected
  local top=$1 period=$2; shift 2
  out=$(env "$@" python3 "$check" "$top.routes.json" "$period" 2>&1); rc=$?
  [ $rc -eq 0 ] || { echo "FAIL: $top at $period ns: exit $rc: $out"; exit 1; }
  echo "$out"
}
logic=$(python3 "$check" into_logic.routes.json 50 --report into_logic.md 2>&1) || { echo "FAIL: into_logic with a report: $logic"; exit 1; }
python3 - "$logic" "$(result pipelined 50)" "$(result pipelined 50 FAQ_ICE40_TIMINGS=nextpnr_dsp.txt)" \
  "$(result no_dsp 50)" into_logic.report.json pipelined.report.json no_dsp.report.json pipelined.routes.json into_logic.md <<'PY' || exit 1
import json, re, sys
logic, piped, piped_as_nextpnr, none = (json.loads(a) for a in sys.argv[1:5])
nextpnr = {n: 1000 / list(json.load(open(f))["fmax"].values())[0]["achieved"] for n, f in zip(("logic", "piped", "none"), sys.argv[5:8])}
print(f"into_logic {logic['critical_path_ns']} ns (nextpnr {nextpnr['logic']:.2f}); pipelined {piped['critical_path_ns']} ns, "
      f"with nextpnr's 0.1 ns {piped_as_nextpnr['critical_path_ns']} (nextpnr {nextpnr['piped']:.2f}); "
      f"no DSP block {none['critical_path_ns']} (nextpnr {nextpnr['none']:.2f})")
# through the combinational block: its multiplier (about 9 ns) on top of what nextpnr counts
assert logic["dsp_blocks"] == 1 and logic["critical_path_ns"] == logic["dsp_paths_ns"] > nextpnr["logic"] + 8, (logic, nextpnr)
# the worst path named from its start to its end: a register, the block, logic, a register; out of the block
assert logic["critical_path"]["from"].endswith("LC.O") and logic["critical_path"]["cells"] >= 3, logic
assert "_DSP.O_" in piped["critical_path"]["from"] and piped["critical_path"]["to"].rsplit(".", 1)[1] in ("I0", "I1", "I2", "I3"), piped
# the pipelined block reads its product from its output register
dsp = [c for c in json.load(open(sys.argv[8]))["cells"].values() if c["type"] == "ICESTORM_DSP"]
assert len(dsp) == 1 and dsp[0]["params"].get("PIPELINE_16x16_MULT_REG1") == "1", dsp
# out of that register: the model's clock-to-output (about 2 ns) instead of nextpnr's 0.1
assert piped["dsp_paths_ns"] > nextpnr["piped"] + 1.0, (piped, nextpnr)
# with nextpnr's 0.1 ns the same routes and cells agree with nextpnr (its logic cells' setups differ a little)
assert abs(piped_as_nextpnr["dsp_paths_ns"] - nextpnr["piped"]) < 0.3, (piped_as_nextpnr, nextpnr)
# without DSP blocks the model is nextpnr's
assert none["dsp_blocks"] == 0 and none["dsp_paths_ns"] == 0 and abs(none["critical_path_ns"] - nextpnr["none"]) < 0.3, (none, nextpnr)
assert piped["chip"] == "Lattice iCE40UP5K", piped
# the paths by register pair: every timed endpoint in one group, the worst group the worst path's, from an operand
# register through the block into the product's register
for d in (logic, piped, none):
    groups = d["worst_groups"]
    assert groups[0][3] == d["critical_path_ns"] and 0 <= d["near_critical"] <= d["endpoints"], d
    assert len(groups) == 10 or sum(g[2] for g in groups) == d["endpoints"], d
assert logic["worst_groups"][0][:2] in (["a", "p"], ["b", "p"]), logic["worst_groups"]
# the report: the worst path pin by pin, arriving at the worst path's time, and every endpoint by length
md = open(sys.argv[9]).read()
assert f"Worst path **{logic['critical_path_ns']} ns**" in md, md
rows = re.findall(r"^\| `([^`]+)` \| ([0-9.]*) \| ([0-9.]*) \| ([0-9.]+) \|$", md, re.M)
assert len(rows) >= 3 and rows[0][0] == logic["critical_path"]["from"] and rows[-1][0] == logic["critical_path"]["to"], rows
arrivals = [float(r[3]) for r in rows]
assert arrivals == sorted(arrivals) and re.search(rf"^\| setup \| [0-9.]+ \| \| {logic['critical_path_ns']:.2f} \|$", md, re.M), md
assert sum(int(n) for n in re.findall(r"^\| (?:up to|over|\d+%) [^|]*\| (\d+) \|$", md, re.M)) == logic["endpoints"], md
print(f"into_logic's worst paths by register pair: {logic['worst_groups'][:2]}; report {len(md)} characters")
PY
msg=$(python3 "$check" into_logic.routes.json 10 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $msg == *"more than the clock's 10.00 ns"* ]] || { echo "FAIL: a 10 ns period: exit $rc: $msg"; exit 1; }
echo "too slow: ${msg##*$'\n'}"
msg=$(python3 "$check" into_logic.report.json 50 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == "sta: cannot read the input (into_logic.report.json"* ]] || { echo "FAIL: a report for routes: exit $rc: $msg"; exit 1; }
echo "bad input: $msg"
msg=$(FAQ_ICE40_TIMINGS=missing.txt python3 "$check" into_logic.routes.json 50 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == "sta: cannot read the iCE40 timing model missing.txt"* ]] || { echo "FAIL: no model: exit $rc: $msg"; exit 1; }
echo "bad input: $msg"
msg=$(python3 "$check" into_logic.routes.json 50 --report missing/into_logic.md 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == *"sta: cannot write the report missing/into_logic.md"* ]] || { echo "FAIL: an unwritable report: exit $rc: $msg"; exit 1; }
echo "bad input: ${msg##*$'\n'}"
# fpga/ice40/cells.py over the same routes: every logic cell nextpnr placed counted once; unreadable input exit 2
cells=$(python3 "$root/fpga/ice40/cells.py" pipelined.routes.json) || { echo "FAIL: cells.py: $cells"; exit 1; }
python3 -c 'import json, sys
c, r = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
assert c["logic_cells"] == sum(c["by_part"].values()) == r["utilization"]["ICESTORM_LC"]["used"] > 0, (c, r["utilization"])
print("cells by part:", c["by_part"])' "$cells" pipelined.report.json || exit 1
msg=$(python3 "$root/fpga/ice40/cells.py" pipelined.report.json 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == "cells: cannot read the input (pipelined.report.json"* ]] || { echo "FAIL: cells.py on a report: exit $rc: $msg"; exit 1; }
echo "bad input: $msg"
echo "sta: combinational and pipelined blocks timed, agreement with nextpnr, period and bad input checked"
