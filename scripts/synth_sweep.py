#!/usr/bin/env python3
"""Precision sweep of the generated datapath, synthesized with Yosys onto the OSU 0.18 um standard cells
(Debian qflow-tech-osu018: osu018_stdcells.lib; dfflibmap + abc -liberty for a 100 MHz target with buffering and sizing, synthlib.ABC, + stat -liberty): the PE, the systolic
array (rows = cols = 4 and 8) and the post-processing lane at weight/activation bits 2, 4, 8, 16, the accumulator
sized to the precision and ResNet-18's largest reduction (3x3x512: 13 bits), capped at the contract's 32.
Fmax from OpenSTA on each mapped netlist (Debian opensta; ideal clock, ports driven by INVX1 and loading 20 fF as
ABC mapped them, scripts/osu018.constr, with no input or output delay).
Writes docs/scaling.json, the generated tables of docs/scaling.md and docs/scaling_pe_area.svg and .png
(rsvg-convert). Every number comes from synthesis. Buffers (register arrays in the RTL) are not
part of this sweep: it measures the datapath the paper's claim is about.
Usage: scripts/synth_sweep.py [--quick] [--pe-booth] (quick: 4x4 arrays only; pe-booth: the arrays of Booth PEs,
docs/hw.md, written to out/synth-booth/scaling.json and printed, not to docs/)"""
import json, os, pathlib, re, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import REDUCTION_BITS as reduction_bits, acc_bits, line_plot, sweep_config, synthesize  # noqa: E402

root = pathlib.Path(__file__).resolve().parent.parent
hwgen = os.environ.get("FAQ_HWGEN", str(root / "build/hw/faq-hwgen"))
booth = "--pe-booth" in sys.argv
out = root / ("out/synth-booth" if booth else "out/synth")
out.mkdir(parents=True, exist_ok=True)
quick = "--quick" in sys.argv
sizes = [4] if quick else [4, 8]
bits_list = [2, 4, 8, 16]


def area_of(files, top):
    return synthesize(files, top, out)



rows = []
for b in bits_list:
    for size in sizes:
        name = f"w{b}a{b}_{size}x{size}"
        cfg = sweep_config(name, size, b, b, **({"pe_booth": True} if booth else {}))
        cfg_path = out / f"{name}.json"
        cfg_path.write_text(json.dumps(cfg))
        rtl = out / name
        subprocess.run([hwgen, "--config", str(cfg_path), "-o", str(rtl)], check=True, capture_output=True)
        pe_area, pe_cells, pe_fmax = area_of([rtl / "faq_pe.v"], "faq_pe")
        # the PE's multiplier alone: (bits + 1)-bit signed activation (unsigned lanes fit) x bits-bit signed weight
        mult = rtl / "faq_mult.v"
        mult.write_text(f"module faq_mult(input wire clk, input wire signed [{b}:0] a, input wire signed [{b - 1}:0] w,\n"
                        f"  output reg signed [{2 * b}:0] p);\n  always @(posedge clk) p <= a * w;\nendmodule\n")
        mult_area, _, _ = area_of([mult], "faq_mult")
        array_area, array_cells, array_fmax = area_of([rtl / "faq_pe.v", rtl / "faq_array.v"], "faq_array")
        rows.append({"bits": b, "acc_bits": acc_bits(b, b), "rows": size, "cols": size, "pe_area_um2": pe_area, "pe_cells": pe_cells,
                     "multiplier_area_um2": mult_area,
                     "pe_fmax_mhz": pe_fmax, "array_area_um2": array_area, "array_cells": array_cells,
                     "array_area_per_pe_um2": array_area / (size * size), "array_fmax_mhz": array_fmax})
        print(f"{name}: PE {pe_area:.0f} um2 {pe_fmax:.0f} MHz, array {array_area:.0f} um2 {array_fmax:.0f} MHz", flush=True)
post_area, post_cells, post_fmax = area_of([out / "w8a8_4x4" / "faq_post.v"], "faq_post")

by = {(r["bits"], r["rows"]): r for r in rows}
ref = by[(8, 4)]["pe_area_um2"]
summary = {
    "library": "OSU 0.18 um (osu018_stdcells.lib, qflow-tech-osu018)",
    "rows": rows,
    "post_lane_area_um2": post_area,
    "post_lane_fmax_mhz": post_fmax,
    "pe_area_ratio_w4a4_w8a8": by[(4, 4)]["pe_area_um2"] / ref,
    "pe_area_ratio_w2a2_w8a8": by[(2, 4)]["pe_area_um2"] / ref,
    "multiplier_area_ratio_w4a4_w8a8": by[(4, 4)]["multiplier_area_um2"] / by[(8, 4)]["multiplier_area_um2"],
    # per PE inside the arrays, whose rows keep only the partial-sum bits their position needs (docs/hw.md)
    **{f"array_pe_area_ratio_w4a4_w8a8_{s}x{s}": by[(4, s)]["array_area_per_pe_um2"] / by[(8, s)]["array_area_per_pe_um2"] for s in sizes},
}
if booth:
    (out / "scaling.json").write_text(json.dumps(summary, indent=2) + "\n")
    for r in rows:
        print(f"W{r['bits']}A{r['bits']} {r['rows']}x{r['cols']} of Booth PEs: {r['array_area_um2']:,.0f} um2 "
              f"({r['array_area_per_pe_um2']:,.0f} per PE), {r['array_fmax_mhz']:.0f} MHz; PE alone {r['pe_area_um2']:,.0f} um2")
    print(f"-> {out / 'scaling.json'}")
    sys.exit(0)
(root / "docs/scaling.json").write_text(json.dumps(summary, indent=2) + "\n")

# SVG and PNG: PE area and array area per PE vs bits, with the bits^2 reference through the 8-bit PE
ymax = max(max(max(r["pe_area_um2"], r["array_area_per_pe_um2"]) for r in rows) * 1.1, ref * (16 / 8) ** 2 * 1.05)
line_plot(root / "docs/scaling_pe_area.svg", "area (um^2, OSU 0.18 um) vs weight/activation bits", [f"W{b}A{b}" for b in bits_list],
          [("#1f77b4", "PE", {i: by[(b, 4)]["pe_area_um2"] for i, b in enumerate(bits_list)}, False),
           ("#ff7f0e", f"{sizes[-1]}x{sizes[-1]} array / PE (with skew)", {i: by[(b, sizes[-1])]["array_area_per_pe_um2"] for i, b in enumerate(bits_list)}, False),
           ("gray", "bits^2 through the 8-bit PE", {i: ref * (b / 8) ** 2 for i, b in enumerate(bits_list)}, True)],
          ymax, lambda v: f"{v/1000:.0f}k")

lines = [f"Library: {summary['library']}, mapped by ABC for a 100 MHz target with its high-fanout nets buffered "
         f"(scripts/synthlib.py). Accumulator bits = min(32, 2·bits + {reduction_bits}).", "",
         "| W/A bits | acc bits | multiplier (µm², with its output register) | / W8A8 | PE area (µm²) | PE / W8A8 PE | (bits/8)² | PE Fmax (MHz) | " + " | ".join(f"{s}x{s} array (µm²) | per PE | / W8A8 | Fmax (MHz)" for s in sizes) + " |",
         "|---|---|---|---|---|---|---|---|" + "---|---|---|---|" * len(sizes)]
for b in bits_list:
    r4 = by[(b, 4)]
    cells = " | ".join(f"{by[(b, s)]['array_area_um2']:,.0f} | {by[(b, s)]['array_area_per_pe_um2']:,.0f} | "
                       f"{by[(b, s)]['array_area_per_pe_um2'] / by[(8, s)]['array_area_per_pe_um2']:.3f} | {by[(b, s)]['array_fmax_mhz']:.0f}" for s in sizes)
    lines.append(f"| {b} | {r4['acc_bits']} | {r4['multiplier_area_um2']:,.0f} | {r4['multiplier_area_um2'] / by[(8, 4)]['multiplier_area_um2']:.3f} | {r4['pe_area_um2']:,.0f} | {r4['pe_area_um2'] / ref:.3f} | {(b / 8) ** 2:.3f} | {r4['pe_fmax_mhz']:.0f} | {cells} |")
lines += ["", f"Post-processing lane (`faq_post`, precision-independent): {post_area:,.0f} µm² ({post_cells} cells), {post_fmax:.0f} MHz.",
          "", "![PE area vs bits](scaling_pe_area.svg) (PNG: `scaling_pe_area.png`)"]
doc = root / "docs/scaling.md"
text = doc.read_text() if doc.exists() else "# Scaling with precision\n\n<!-- BEGIN GENERATED: scripts/synth_sweep.py -->\n<!-- END GENERATED: scripts/synth_sweep.py -->\n"
begin, end = "<!-- BEGIN GENERATED: scripts/synth_sweep.py -->", "<!-- END GENERATED: scripts/synth_sweep.py -->"
head, rest = text.split(begin)
doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])
print(f"PE area W4A4/W8A8 = {summary['pe_area_ratio_w4a4_w8a8']:.3f} alone, "
      + ", ".join(f"{summary[f'array_pe_area_ratio_w4a4_w8a8_{s}x{s}']:.3f} per PE in the {s}x{s} array" for s in sizes)
      + " -> docs/scaling.md, docs/scaling.json")
