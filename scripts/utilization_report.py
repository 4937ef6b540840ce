#!/usr/bin/env python3
"""Per-layer cycles and utilization of a model on a configuration, from the cycle model (faqc compile --json), as
the markdown table kept in docs/utilization.md between its GENERATED markers. Cycles depend only on the layer
shapes and precisions, not on the weight values, so the ImageNet-shaped random-init ResNet-18 (one faq-train
command, scripts/bench_sim.sh makes it) gives the same table as trained weights of that shape.
Usage: scripts/utilization_report.py MODEL.faq [CONFIG ...] (default: default tiny wide)"""
import json, pathlib, subprocess, sys, os

root = pathlib.Path(__file__).resolve().parent.parent
faqc = os.environ.get("FAQC", str(root / "build/compiler/faqc"))
model = sys.argv[1]
configs = sys.argv[2:] or ["default", "tiny", "wide"]
out = root / "out/utilization"
out.mkdir(parents=True, exist_ok=True)
runs = {}
for c in configs:
    runs[c] = json.loads(subprocess.run([faqc, "compile", model, "--config", c, "-o", str(out / c), "--json"],
                                        check=True, capture_output=True, text=True).stdout)
first = runs[configs[0]]
lines = [f"Model: `{pathlib.Path(model).name}` (ResNet-18, torchvision topology, 224x224x3, "
         f"{sum(l['macs'] for l in first['layers']):,} MACs). Cycle model defaults (DRAM latency 20 cycles).", "",
         "| configuration | PEs | cycles | utilization | DRAM moved (MiB) | instructions |", "|---|---|---|---|---|---|"]
for c, r in runs.items():
    lines.append(f"| {c} | {r['pes']} | {r['cycles']:,} | {100 * r['utilization']:.1f} % | {r['dram_moved'] / 2**20:.1f} | {r['instructions']:,} |")
lines += ["", f"Per layer on `{configs[0]}`:", "",
          "| layer | op | output [C,H,W] | MACs | cycles | utilization | EX busy | LD busy | ST busy | DRAM read (KiB) | DRAM written (KiB) |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
for l in first["layers"]:
    if l["op"] == "input":
        continue
    cyc = l["cycles"]
    pct = lambda x: f"{100 * x / cyc:.0f} %" if cyc else "-"
    lines.append(f"| {l['name']} | {l['op']} | {l['shape']} | {l['macs']:,} | {cyc:,} | {100 * l['utilization']:.1f} % | "
                 f"{pct(l['busy']['EX'])} | {pct(l['busy']['LD'])} | {pct(l['busy']['ST'])} | {l['dram_read'] / 1024:.0f} | {l['dram_written'] / 1024:.0f} |")
doc = root / "docs/utilization.md"
text = doc.read_text()
begin, end = "<!-- BEGIN GENERATED: scripts/utilization_report.py -->", "<!-- END GENERATED: scripts/utilization_report.py -->"
head, rest = text.split(begin)
doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])
print(f"{model}: " + ", ".join(f"{c} {100 * r['utilization']:.1f} %" for c, r in runs.items()) + " -> docs/utilization.md")
