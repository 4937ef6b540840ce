#!/usr/bin/env python3
"""The precision-scalable PE (issue 7: faq_pe of a configuration with "scalable": true) against the fixed PEs,
synthesized in one run by the flow of scripts/synth_sweep.py (Yosys onto the OSU 0.18 um cells, OpenSTA): the
scalable PE and the fixed W8A8 PE with the 8-bit accumulator rule (min(32, 2*8 + 13) = 29 bits), and the fixed W4A4
PE (21 bits). Reports area, Fmax, MACs per cycle per mode and MACs per cycle per unit area against both fixed PEs,
and the same for 4x4 arrays of each (faq_array: the same skew and de-skew; the scalable one has 20-bit activation
lanes, 16-bit weight lanes and the mode skewed with the activations). Writes docs/scalable_pe.json and the generated
table of docs/scaling.md.
Usage: scripts/scalable_pe_area.py"""
import json, os, pathlib, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import sweep_config, synthesize, write_generated  # noqa: E402

root = pathlib.Path(__file__).resolve().parent.parent
hwgen = os.environ.get("FAQ_HWGEN", str(root / "build/hw/faq-hwgen"))
out = root / "out/scalable_pe"
out.mkdir(parents=True, exist_ok=True)


def generate(name, bits, acc, scalable=False):
    cfg = sweep_config(name, 4, bits, bits, acc_bits=acc, scalable=scalable)
    path = out / f"{name}.json"
    path.write_text(json.dumps(cfg))
    rtl = out / name
    subprocess.run([hwgen, "--config", str(path), "-o", str(rtl)], check=True, capture_output=True)
    return rtl


w8 = generate("w8a8", 8, 29)
w4 = generate("w4a4", 4, 21)
ws = generate("scalable", 8, 29, scalable=True)
fixed8 = synthesize([w8 / "faq_pe.v"], "faq_pe", out)
fixed4 = synthesize([w4 / "faq_pe.v"], "faq_pe", out)
scalable = synthesize([ws / "faq_pe.v"], "faq_pe", out)
# 4x4 arrays (the same PE count): fixed W8A8, fixed W4A4, scalable
array8 = synthesize([w8 / "faq_pe.v", w8 / "faq_array.v"], "faq_array", out)
array4 = synthesize([w4 / "faq_pe.v", w4 / "faq_array.v"], "faq_array", out)
array_s = synthesize([ws / "faq_pe.v", ws / "faq_array.v"], "faq_array", out)
macs = {"W8A8": 1, "W4A8": 2, "W8A4": 2, "W4A4": 4}
result = {
    "fixed_w8a8": {"area_um2": fixed8[0], "cells": fixed8[1], "fmax_mhz": fixed8[2]},
    "fixed_w4a4": {"area_um2": fixed4[0], "cells": fixed4[1], "fmax_mhz": fixed4[2]},
    "scalable": {"area_um2": scalable[0], "cells": scalable[1], "fmax_mhz": scalable[2], "macs_per_cycle": macs},
    "overhead_vs_fixed_w8a8": scalable[0] / fixed8[0] - 1,
    "w4a4_throughput_per_area_vs_fixed_w8a8": macs["W4A4"] / scalable[0] / (1 / fixed8[0]),
    "w4a4_throughput_per_area_vs_fixed_w4a4": macs["W4A4"] / scalable[0] / (1 / fixed4[0]),
    "w8a8_throughput_per_area_vs_fixed_w8a8": macs["W8A8"] / scalable[0] / (1 / fixed8[0]),
    "arrays_4x4": {"fixed_w8a8": {"area_um2": array8[0], "fmax_mhz": array8[2]}, "fixed_w4a4": {"area_um2": array4[0], "fmax_mhz": array4[2]},
                   "scalable": {"area_um2": array_s[0], "fmax_mhz": array_s[2]}},
    "array_w4a4_throughput_per_area_vs_fixed_w8a8": macs["W4A4"] * array8[0] / array_s[0],
}
(root / "docs/scalable_pe.json").write_text(json.dumps(result, indent=2) + "\n")
r = result
lines = [
    "| PE | area (µm²) | Fmax (MHz) | MACs per cycle | MACs per cycle per 10⁴ µm² |",
    "|---|---:|---:|---|---|",
    f"| fixed W8A8 (acc 29) | {fixed8[0]:,.0f} | {fixed8[2]:.0f} | 1 | {1e4 / fixed8[0]:.3f} |",
    f"| fixed W4A4 (acc 21) | {fixed4[0]:,.0f} | {fixed4[2]:.0f} | 1 (4-bit only) | {1e4 / fixed4[0]:.3f} |",
    f"| scalable (acc 29) | {scalable[0]:,.0f} | {scalable[2]:.0f} | W8A8 1, W4A8 2, W8A4 2, W4A4 4 | "
    f"W8A8 {1e4 / scalable[0]:.3f}, W4A4 {4e4 / scalable[0]:.3f} |",
    f"| 4×4 array, fixed W8A8 | {array8[0]:,.0f} | {array8[2]:.0f} | 16 | {16e4 / array8[0]:.3f} |",
    f"| 4×4 array, fixed W4A4 | {array4[0]:,.0f} | {array4[2]:.0f} | 16 (4-bit only) | {16e4 / array4[0]:.3f} |",
    f"| 4×4 array, scalable | {array_s[0]:,.0f} | {array_s[2]:.0f} | 16 / 32 / 32 / 64 | "
    f"W8A8 {16e4 / array_s[0]:.3f}, W4A4 {64e4 / array_s[0]:.3f} |",
    "",
    f"Scalable PE area over the fixed W8A8 PE: **{r['overhead_vs_fixed_w8a8']:+.0%}**. Throughput per area at W4A4: "
    f"**{r['w4a4_throughput_per_area_vs_fixed_w8a8']:.2f}×** the fixed W8A8 PE (goal ≥ 2.5×), "
    f"{r['w4a4_throughput_per_area_vs_fixed_w4a4']:.2f}× the fixed W4A4 PE; at W8A8 "
    f"{r['w8a8_throughput_per_area_vs_fixed_w8a8']:.2f}× the fixed W8A8 PE. The 4×4 scalable array at W4A4: "
    f"**{r['array_w4a4_throughput_per_area_vs_fixed_w8a8']:.2f}×** the fixed W8A8 array's MACs per area.",
]
write_generated(root / "docs/scaling.md", "scripts/scalable_pe_area.py", lines, "Precision-scalable array (issue 7)")
print(json.dumps(result, indent=2))
