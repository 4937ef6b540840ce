#!/usr/bin/env python3
"""Energy per ResNet-18 224x224 inference at W8A8, W4A8 and W4A4 (first and last layer 8-bit, the FAQ plan) on a
configuration, from the energy model (docs/energy.md) via `faqc compile --json`: MAC, on-chip memory and DRAM,
ratios to W8A8 with and without DRAM, a bar chart (SVG and PNG), the generated section of docs/scaling.md and
docs/energy.json; and the same with the MACs priced from the synthesized arrays (docs/mac_energy.json, written by
scripts/mac_energy.py; `faqc compile --mac-energy`). The models are the ImageNet-shaped random-init ones (energy counts depend on shapes and
precisions, not on weight values), made with faq-train when missing.
Usage: scripts/energy_report.py [CONFIG (default: default)]"""
import json, pathlib, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import BENCH as bench, BUILD as build, ROOT as root, bench_model, energy_uj, write_generated  # noqa: E402

config = sys.argv[1] if len(sys.argv) > 1 else "default"
plans = [("W8A8", 8, 8), ("W4A8", 4, 8), ("W4A4", 4, 4)]
mac_table = root / "docs/mac_energy.json"


def account(extra):
    """Per plan: MAC, on-chip and DRAM energy (uJ), totals and ratios to W8A8, from faqc compile --json."""
    rows = []
    for name, wb, ab in plans:
        j = json.loads(subprocess.run([str(build / "compiler/faqc"), "compile", str(bench_model(wb, ab)), "--config", config,
                                       "-o", str(bench / f"energy_{name}"), "--json", *extra], check=True, capture_output=True, text=True).stdout)
        e = energy_uj(j)
        rows.append({"plan": name, "mac_uj": e["mac"], "onchip_uj": e["onchip"], "dram_uj": e["dram"],
                     "total_uj": e["mac"] + e["onchip"] + e["dram"], "cycles": j["cycles"]})
    base = rows[0]
    for r in rows:
        r["ratio_total"] = r["total_uj"] / base["total_uj"]
        r["ratio_without_dram"] = (r["mac_uj"] + r["onchip_uj"]) / (base["mac_uj"] + base["onchip_uj"])
        r["ratio_mac"] = r["mac_uj"] / base["mac_uj"]
    return rows


rows = account([])
netlist_rows = account(["--mac-energy", str(mac_table)]) if mac_table.exists() else None
(root / "docs/energy.json").write_text(json.dumps({"config": config, "model": "ResNet-18 224x224x3 (random init)", "rows": rows,
                                                   "rows_netlist_macs": netlist_rows}, indent=2) + "\n")

W, H, L, B = 520, 300, 70, 40
top = max(r["total_uj"] for r in rows) * 1.1
colors = [("mac_uj", "#1f77b4", "MAC"), ("onchip_uj", "#2ca02c", "on-chip memory"), ("dram_uj", "#d62728", "DRAM")]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>', f'<text x="{L}" y="16">energy per ResNet-18 inference (uJ), {config} array</text>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-20}" y2="{H-B}" stroke="black"/>']
for i, r in enumerate(rows):
    x = L + 30 + i * 130
    y = H - B
    for key, color, _ in colors:
        h = (H - B - 30) * r[key] / top
        svg.append(f'<rect x="{x}" y="{y-h:.1f}" width="70" height="{h:.1f}" fill="{color}"/>')
        y -= h
    svg.append(f'<text x="{x+35}" y="{H-B+16}" text-anchor="middle">{r["plan"]}</text>')
    svg.append(f'<text x="{x+35}" y="{y-4:.1f}" text-anchor="middle">{r["total_uj"]:,.0f}</text>')
for k, (_, color, label) in enumerate(colors):
    svg.append(f'<rect x="{W-150}" y="{30+16*k}" width="12" height="12" fill="{color}"/><text x="{W-132}" y="{40+16*k}">{label}</text>')
svg.append("</svg>")
svg_path = root / "docs/energy_resnet18.svg"
svg_path.write_text("\n".join(svg) + "\n")
subprocess.run(["rsvg-convert", "-o", str(root / "docs/energy_resnet18.png"), str(svg_path)], check=True)

def table(rows):
    out = ["| plan | MAC (µJ) | on-chip memory (µJ) | DRAM (µJ) | total (µJ) | total / W8A8 | without DRAM / W8A8 | MAC / W8A8 |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['plan']} | {r['mac_uj']:,.1f} | {r['onchip_uj']:,.1f} | {r['dram_uj']:,.1f} | {r['total_uj']:,.1f} | {r['ratio_total']:.3f} | "
                   f"{r['ratio_without_dram']:.3f} | {r['ratio_mac']:.3f} |")
    return out


lines = [f"ResNet-18 224×224×3, FAQ plan (first and last layer 8-bit), `{config}` configuration, energy model of docs/energy.md:", "",
         *table(rows), "", "![energy per inference](energy_resnet18.svg) (PNG: `energy_resnet18.png`)"]
if netlist_rows:
    lines += ["", "The same with each MAC priced from the synthesized array of its precision (docs/mac_energy.json, "
              "`faqc compile --mac-energy`; section \"MAC energy from the netlists\"):", "", *table(netlist_rows)]
write_generated(root / "docs/scaling.md", "scripts/energy_report.py", lines, "Energy per inference")
print(", ".join(f"{r['plan']} {r['total_uj']:,.0f} uJ ({r['ratio_total']:.3f})" for r in rows))
if netlist_rows:
    print("MACs from the netlists: " + ", ".join(f"{r['plan']} {r['total_uj']:,.0f} uJ ({r['ratio_total']:.3f})" for r in netlist_rows))
