#!/usr/bin/env bash
# MAC energy from the synthesized netlists (scripts/mac_energy.py: Yosys onto the OSU 0.18 um cells, Icarus
# gate-level activity, OpenSTA report_power) on 2x2 arrays, and faqc pricing MACs with the table it writes:
#   - random operands: W4A4 costs less per MAC than W8A8, and the combinational cells' energy is not zero; so do
#     the operands of the trained resnet20 models (models/), each at its own precision;
#   - every operand zero: the combinational energy falls below 1 % of the random run's (so the simulated activity,
#     not a default, is what OpenSTA prices; the script itself checks the dump's input toggles against its stimulus);
#   - faqc run --mac-energy with that table prices the MACs from it, and refuses a table lacking a layer's widths;
#   - bad input to the script (a truncated model, no W8A8 anchor): one line, exit 2.
# About 15 seconds. Usage: test_mac_energy.sh FAQ_HWGEN FAQC MODELS_DIR WORKDIR
set -u
hwgen=$1 faqc=$2 models=$3 work=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
pass=0 failures=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for operands in random zero; do
  FAQ_HWGEN=$hwgen python3 "$root/scripts/mac_energy.py" --size 2 --lines 256 --precisions 8:8,4:4 --operands $operands --models "$models"/*.faq \
    --no-doc --out "$work/$operands.json" --work "$work/$operands" || { echo "FAIL: mac_energy.py --operands $operands"; exit 1; }
done
python3 - "$work/random.json" "$work/zero.json" <<'PY' && ok || fail "energies"
import json, sys
rand, zero = ({(m["weight_bits"], m["act_bits"]): m for m in json.load(open(p))["macs"]} for p in sys.argv[1:])
for key in rand:
    r, z = rand[key], zero[key]
    print(f"W{key[0]}A{key[1]}: {r['pj_per_mac_018']:.3f} pJ per MAC (combinational {r['combinational_pj']:.3f}), zero operands "
          f"{z['pj_per_mac_018']:.3f} (combinational {z['combinational_pj']:.5f})")
    assert r["combinational_pj"] > 0, "no combinational energy"
    assert z["combinational_pj"] < 0.01 * r["combinational_pj"], "zero operands switch the logic as much as random ones"
assert rand[(4, 4)]["pj_per_mac_018"] < rand[(8, 8)]["pj_per_mac_018"], "W4A4 not below W8A8"
# the trained models' own operands (models/: resnet20 W4A4 and W8A8), each at its precision
trained = {k: r["trained"] for k, r in rand.items()}
print(", ".join(f"W{k[0]}A{k[1]} {v['pj_per_mac_018']:.3f} pJ with the operands of {v['model']}" for k, v in trained.items()))
assert trained[(4, 4)]["model"] == "fmnist_resnet20_w4a4.faq" and trained[(8, 8)]["model"] == "fmnist_resnet20_w8a8.faq", "models"
assert 0 < trained[(4, 4)]["pj_per_mac_018"] < trained[(8, 8)]["pj_per_mac_018"], "trained W4A4 not below W8A8"
assert abs(rand[(8, 8)]["pj_per_mac"] - json.load(open(sys.argv[1]))["anchor_pj"]) < 1e-12, "W8A8 not at the anchor"
PY
# faqc prices the MACs of resnet20 W4A4 (first and last layers W8A8) from a table: one holding the Horowitz model's
# own MAC energies on default (32-bit accumulators) gives the model's MAC total, one holding twice them twice it
model=$models/fmnist_resnet20_w4a4.faq
for k in 1 2; do
  python3 -c "import json,sys; json.dump({'macs': [{'weight_bits': w, 'act_bits': a, 'pj_per_mac': $k * (0.2 * a * w / 64 + 0.1)}
    for w in (4, 8) for a in (4, 8)]}, open(sys.argv[1], 'w'))" "$work/horowitz$k.json"
done
mac() { sed -n 's/^energy per inference: .* (MAC \([0-9.]*\),.*/\1/p' <<<"$1"; }
plain=$("$faqc" run "$model" --energy 2>&1) same=$("$faqc" run "$model" --energy --mac-energy "$work/horowitz1.json" 2>&1)
twice=$("$faqc" run "$model" --energy --mac-energy "$work/horowitz2.json" 2>&1)
measured=$("$faqc" run "$model" --energy --mac-energy "$work/random.json" 2>&1)
echo "MAC energy (uJ): model $(mac "$plain"), table of the model's $(mac "$same"), twice $(mac "$twice"), measured $(mac "$measured")"
[ -n "$(mac "$plain")" ] && [ "$(mac "$plain")" = "$(mac "$same")" ] && ok || fail "the model's own energies as a table: $(mac "$same") != $(mac "$plain")"
python3 -c "import sys; sys.exit(abs(float(sys.argv[2]) - 2 * float(sys.argv[1])) > 0.11)" "$(mac "$plain")" "$(mac "$twice")" && ok || fail "twice the table: $(mac "$twice")"
grep -q "MACs from $work/random.json" <<<"$measured" && [ "$(mac "$measured")" != "$(mac "$plain")" ] && ok || fail "measured table: $measured"
echo '{"macs": [{"weight_bits": 8, "act_bits": 8, "pj_per_mac": 0.3}]}' >"$work/only8.json"  # no W4A4
"$faqc" run "$model" --energy --mac-energy "$work/only8.json" >/dev/null 2>"$work/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -qF "only8.json: no MAC energy for W4A4" "$work/err" && ok || fail "missing widths: exit $rc, $(cat "$work/err")"
# bad input: one line, exit 2 (a truncated model, precisions without the W8A8 anchor)
head -c 100 "$model" >"$work/truncated.faq"
for args in "--models $work/truncated.faq" "--precisions 4:4"; do
  FAQ_HWGEN=$hwgen python3 "$root/scripts/mac_energy.py" --size 2 --lines 128 --block 128 --precisions 8:8 --no-doc --out "$work/bad.json" \
    --work "$work/bad" $args >/dev/null 2>"$work/err"
  rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok || fail "mac_energy.py $args: exit $rc, $(cat "$work/err")"
done
echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
