#!/usr/bin/env python3
"""Builds docs/results.json and the table of docs/results.md from the runs kept in docs/results/runs/*/metrics.json
(each written by faq-train in the run it describes). Usage: scripts/collect_results.py"""
import json, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
rows = []
for path in sorted((root / "docs/results/runs").glob("*/metrics.json")):
    m = json.loads(path.read_text())
    rows.append({
        "run": path.parent.name, "model": m["model"], "image_size": m["image_size"], "wbits": m["wbits"], "abits": m["abits"],
        "fp32_top1": m.get("fp32_top1"), "top1": m.get("top1"), "top1_integer": m.get("top1_integer"),
        "agreement": m.get("agreement"), "epochs": m.get("epochs"),
        "fp32_epochs": len(m.get("fp32_epochs", [])) or None, "weight_cosine": round(m["weight_cosine"], 4),
        "seed": m["seed"], "device": m["device"], "seconds": round(m["seconds"], 1), "command": m["command"],
    })
(root / "docs/results.json").write_text(json.dumps(rows, indent=2) + "\n")
lines = ["| run | model | input | W/A | FP32 top-1 | FAQ top-1 (fake-quant) | integer top-1 | agreement | FAQ epochs | cosine(w, w_fp32) | seed | device | time (s) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['run']} | {r['model']} | {r['image_size']} | W{r['wbits']}A{r['abits']} | {r['fp32_top1']:.2f} | {r['top1']:.2f} | "
                 f"{r['top1_integer']:.2f} | {r['agreement']:.2f}% | {r['epochs']} | {r['weight_cosine']} | {r['seed']} | {r['device']} | {r['seconds']} |")
doc = root / "docs/results.md"
text = doc.read_text()
begin, end = "<!-- BEGIN GENERATED: scripts/collect_results.py -->", "<!-- END GENERATED -->"
head, rest = text.split(begin)
doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])
print(f"{len(rows)} runs -> docs/results.json, docs/results.md")
