#!/usr/bin/env bash
# fpga/ice40/dsp_paths.py: a product read straight from a DSP block's multiplier into logic is refused (nextpnr
# would not time that path); a multiplier between flip-flops is bounded from nextpnr's routes (its placement of a small
# design on the UP5K) and fails a clock period the bound exceeds; a report without routes is bad input (exit 2).
# Seconds. Usage: test_dsp_paths.sh WORKDIR
set -u
work=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
check=$root/fpga/ice40/dsp_paths.py
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# 16 x 16 products of registers with a synchronous reset (which a DSP block's registers lack, so that the operands
# stay in logic cells and the blocks are combinational): `into_logic` xors the product with a register, `into_register`
# registers it
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
module into_register(input clk, input rst, input din, output reg dout);
  reg [31:0] sh; reg [15:0] a, b; reg [31:0] p;
  always @(posedge clk) begin
    sh <= {sh[30:0], din};
    if (rst) begin a <= 0; b <= 0; p <= 0; end else begin a <= sh[15:0]; b <= sh[31:16]; p <= a * b; end
    dout <= ^p;
  end
endmodule
EOF
for top in into_logic into_register; do
  yosys -q -p "read_verilog d.v; synth_ice40 -dsp -top $top -json $top.json" >"$top.log" 2>&1 || { echo "FAIL: yosys $top"; cat "$top.log"; exit 1; }
  grep -q '"SB_MAC16"' "$top.json" || { echo "FAIL: $top: no SB_MAC16"; exit 1; }
done
nextpnr-ice40 --up5k --package sg48 --json into_register.json --freq 20 --report routes.json --detailed-timing-report \
  >pnr.log 2>&1 || { echo "FAIL: nextpnr"; tail -5 pnr.log; exit 1; }
nextpnr-ice40 --up5k --package sg48 --json into_register.json --freq 20 --report plain.json >/dev/null 2>&1 || { echo "FAIL: nextpnr"; exit 1; }

msg=$(python3 "$check" into_logic.json routes.json 50 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $msg == *"drives "*"not a flip-flop"* ]] || { echo "FAIL: a product into logic: exit $rc: $msg"; exit 1; }
echo "refused: $msg"
out=$(python3 "$check" into_register.json routes.json 50 2>&1); rc=$?
[ $rc -eq 0 ] || { echo "FAIL: a product between registers at 50 ns: exit $rc: $out"; exit 1; }
python3 - "$out" <<'PY' || exit 1
import json, sys
r = json.loads(sys.argv[1])
# one block, fed from flip-flops and read by them: the multiplier's 9 ns plus two routes, a clock-to-output, a setup
assert r["dsp_blocks"] == 1 and r["paths_through_multipliers"] == 1, r
assert 9.0 + 1.4 + 1.2 < r["bound_ns"] < 50, r
PY
echo "bounded: $out"
msg=$(python3 "$check" into_register.json routes.json 10 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $msg == *"more than the clock's 10.00 ns"* ]] || { echo "FAIL: a 10 ns period: exit $rc: $msg"; exit 1; }
echo "too slow: ${msg##*$'\n'}"
msg=$(python3 "$check" into_register.json plain.json 50 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $msg == "dsp_paths: plain.json: no detailed_net_timings"* ]] || { echo "FAIL: a report without routes: exit $rc: $msg"; exit 1; }
echo "bad input: $msg"
echo "dsp_paths: refusal, bound and bad input checked"
