#!/usr/bin/env python3
"""The precision-scalable array on ResNet-18 224x224 (issue 7): the FAQ plan (first conv and fc 8-bit, every other
layer 4-bit; out/bench/resnet18_w4a4.faq) compiled for `default` (16x16 fixed W8A8 PEs) and `scalable` (the same
16x16 array and buffers, precision-scalable PEs), timed by the cycle model and priced by the energy model through
`faqc compile --json`: cycles per layer, the 4-bit layers' and the whole network's speed-up, energy per inference
(MAC, on-chip, DRAM), and the W8A8 network on both (what 8-bit layers pay for scalability). Area and Fmax come from
docs/scalable_pe.json (scripts/scalable_pe_area.py, run it first) and, for the whole accelerators,
docs/accel_area.json (scripts/accel_area.py ... default scalable). Writes docs/scalable.json and the generated
section of docs/scaling.md. The models are the ImageNet-shaped random-init ones (cycles and energy depend on shapes
and precisions, not on weight values), made with faq-train when missing.
Usage: scripts/scalable_report.py"""
import json, pathlib, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import BENCH as bench, BUILD as build, ROOT as root, bench_model as model, energy_uj as energy, write_generated  # noqa: E402


def compiled(path, config):
    out = subprocess.run([str(build / "compiler/faqc"), "compile", str(path), "--config", config, "-o", str(bench / f"scalable_{path.stem}_{config}"),
                          "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


faq_plan = model(4, 4)
fixed, scal = compiled(faq_plan, "default"), compiled(faq_plan, "scalable")
w8_fixed, w8_scal = compiled(model(8, 8), "default"), compiled(model(8, 8), "scalable")
layers = []
for a, b in zip(fixed["layers"], scal["layers"]):
    assert a["name"] == b["name"]
    layers.append({"name": a["name"], "op": a["op"], "products": b["products"], "cycles_fixed": a["cycles"], "cycles_scalable": b["cycles"]})
four = [l for l in layers if l["products"] == 4]
sum_fixed4, sum_scal4 = sum(l["cycles_fixed"] for l in four), sum(l["cycles_scalable"] for l in four)
area = json.loads((root / "docs/scalable_pe.json").read_text())
# the whole accelerators, when scripts/accel_area.py has measured both (it does in scripts/scaling_report.sh)
accel = {p["preset"]: p["total_um2"] for p in json.loads((root / "docs/accel_area.json").read_text())["presets"]}
e_fixed, e_scal = energy(fixed), energy(scal)
total = lambda e: e["mac"] + e["onchip"] + e["dram"]  # noqa: E731
result = {
    "model": "ResNet-18 224x224x3 (random init), FAQ plan: conv1 and fc W8A8, the rest W4A4",
    "cycles": {"fixed": fixed["cycles"], "scalable": scal["cycles"], "speedup": fixed["cycles"] / scal["cycles"]},
    "four_bit_layers": {"count": len(four), "cycles_fixed": sum_fixed4, "cycles_scalable": sum_scal4, "speedup": sum_fixed4 / sum_scal4,
                        "slowest_layer_speedup": min(l["cycles_fixed"] / l["cycles_scalable"] for l in four)},
    "w8a8_network_cycles": {"fixed": w8_fixed["cycles"], "scalable": w8_scal["cycles"]},
    "energy_uj": {"fixed": e_fixed, "scalable": e_scal, "ratio": total(e_scal) / total(e_fixed),
                  "ratio_without_dram": (e_scal["mac"] + e_scal["onchip"]) / (e_fixed["mac"] + e_fixed["onchip"])},
    "w8a8_network_energy_uj": {"fixed": total(energy(w8_fixed)), "scalable": total(energy(w8_scal))},
    # the precision claim on one array: the FAQ plan against the W8A8 network, both on the scalable array
    "faq_plan_over_w8a8_on_scalable": {"with_dram": total(e_scal) / total(energy(w8_scal)),
                                       "without_dram": (e_scal["mac"] + e_scal["onchip"]) / (total(energy(w8_scal)) - energy(w8_scal)["dram"])},
    "layers": layers,
}
if "default" in accel and "scalable" in accel:
    result["accelerator_area_mm2"] = {"fixed": accel["default"] / 1e6, "scalable": accel["scalable"] / 1e6}
    result["faq_plan_throughput_per_accelerator_area"] = result["cycles"]["speedup"] * accel["default"] / accel["scalable"]
(root / "docs/scalable.json").write_text(json.dumps(result, indent=2) + "\n")
r, c, f4 = result, result["cycles"], result["four_bit_layers"]
pe8, pes = area["fixed_w8a8"], area["scalable"]
lines = [
    "ResNet-18 224×224×3, FAQ plan (conv1 and fc W8A8, every other layer W4A4), cycle model, on the 16×16 `default` "
    "(fixed W8A8 PEs) and `scalable` (the same array and buffers, precision-scalable PEs) configurations:",
    "",
    "| | fixed W8A8 array (`default`) | scalable array (`scalable`) | ratio |",
    "|---|---:|---:|---:|",
    f"| cycles per inference | {c['fixed']:,} | {c['scalable']:,} | **{c['speedup']:.2f}×** faster (goal ≥ 3×) |",
    f"| cycles of the {f4['count']} 4-bit layers | {f4['cycles_fixed']:,} | {f4['cycles_scalable']:,} | **{f4['speedup']:.2f}×** faster (goal ≥ 3.5×; slowest layer {f4['slowest_layer_speedup']:.2f}×) |",
    f"| cycles of the W8A8 network (8-bit everywhere) | {r['w8a8_network_cycles']['fixed']:,} | {r['w8a8_network_cycles']['scalable']:,} | "
    f"{r['w8a8_network_cycles']['fixed'] / r['w8a8_network_cycles']['scalable']:.2f}× |",
    f"| energy per inference, FAQ plan (µJ: MAC / on-chip / DRAM) | {total(e_fixed):,.0f} ({e_fixed['mac']:,.0f} / {e_fixed['onchip']:,.0f} / {e_fixed['dram']:,.0f}) | "
    f"{total(e_scal):,.0f} ({e_scal['mac']:,.0f} / {e_scal['onchip']:,.0f} / {e_scal['dram']:,.0f}) | {r['energy_uj']['ratio']:.3f} "
    f"({r['energy_uj']['ratio_without_dram']:.3f} without DRAM) |",
    f"| energy per inference, W8A8 network (µJ) | {r['w8a8_network_energy_uj']['fixed']:,.0f} | {r['w8a8_network_energy_uj']['scalable']:,.0f} | "
    f"{r['w8a8_network_energy_uj']['scalable'] / r['w8a8_network_energy_uj']['fixed']:.3f} |",
    f"| energy per inference, FAQ plan / W8A8 network on the same array | {total(e_fixed) / r['w8a8_network_energy_uj']['fixed']:.3f} "
    f"| **{r['faq_plan_over_w8a8_on_scalable']['with_dram']:.3f}** ({r['faq_plan_over_w8a8_on_scalable']['without_dram']:.3f} without DRAM) | |",
    f"| PE area (µm², OSU 0.18 µm) | {pe8['area_um2']:,.0f} | {pes['area_um2']:,.0f} | +{area['overhead_vs_fixed_w8a8']:.0%} |",
    f"| PE Fmax (MHz) | {pe8['fmax_mhz']:.0f} | {pes['fmax_mhz']:.0f} | {pes['fmax_mhz'] / pe8['fmax_mhz']:.2f} |",
    f"| W4A4 MACs per cycle per PE area | | | **{area['w4a4_throughput_per_area_vs_fixed_w8a8']:.2f}×** (goal ≥ 2.5×); 4×4 arrays "
    f"{area['array_w4a4_throughput_per_area_vs_fixed_w8a8']:.2f}× |",
    f"| W4A4 MACs per second per PE area, each PE at its Fmax | | | "
    f"{area['w4a4_throughput_per_area_vs_fixed_w8a8'] * pes['fmax_mhz'] / pe8['fmax_mhz']:.2f}× |",
]
if "accelerator_area_mm2" in result:
    a = result["accelerator_area_mm2"]
    lines.append(f"| whole accelerator area (mm², `scripts/accel_area.py`: logic + SRAM model) | {a['fixed']:.2f} | {a['scalable']:.2f} | "
                 f"{a['scalable'] / a['fixed']:.3f}: FAQ-plan inferences per second per area **{result['faq_plan_throughput_per_accelerator_area']:.2f}×** |")
write_generated(root / "docs/scaling.md", "scripts/scalable_report.py", lines, "Precision-scalable array on ResNet-18 (issue 7)")
print(f"cycles {c['fixed']:,} -> {c['scalable']:,} ({c['speedup']:.2f}x); 4-bit layers {f4['speedup']:.2f}x; "
      f"energy {r['energy_uj']['ratio']:.3f}")
