#!/usr/bin/env python3
"""Builds docs/results.json and the tables of docs/results.md from the runs kept in docs/results/runs/*/metrics.json
(each written by faq-train in the run it describes): one row per run, and one per recipe over its seeds (runs named
NAME-sSEED-REST group as NAME-REST) with mean and sample standard deviation. Usage: scripts/collect_results.py"""
import json, pathlib, re, statistics

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
groups = {}
for r in rows:
    groups.setdefault(re.sub(r"-s\d+(?=-|$)", "", r["run"]), []).append(r)
def stat(values):
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)
summary = []
for recipe, rs in groups.items():
    row = {"recipe": recipe, "model": rs[0]["model"], "wbits": rs[0]["wbits"], "abits": rs[0]["abits"], "epochs": rs[0]["epochs"],
           "seeds": sorted(r["seed"] for r in rs)}
    for key in ("fp32_top1", "top1", "top1_integer", "agreement", "weight_cosine"):
        row[key + "_mean"], row[key + "_std"] = stat([r[key] for r in rs])
    row["delta_vs_fp32_mean"], row["delta_vs_fp32_std"] = stat([r["top1"] - r["fp32_top1"] for r in rs])
    summary.append(row)
(root / "docs/results.json").write_text(json.dumps({"runs": rows, "summary": summary}, indent=2) + "\n")
lines = ["| run | model | input | W/A | FP32 top-1 | FAQ top-1 (fake-quant) | integer top-1 | agreement | FAQ epochs | cosine(w, w_fp32) | seed | device | time (s) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['run']} | {r['model']} | {r['image_size']} | W{r['wbits']}A{r['abits']} | {r['fp32_top1']:.2f} | {r['top1']:.2f} | "
                 f"{r['top1_integer']:.2f} | {r['agreement']:.2f}% | {r['epochs']} | {r['weight_cosine']} | {r['seed']} | {r['device']} | {r['seconds']} |")
pm = lambda r, k, d=2: f"{r[k + '_mean']:.{d}f} ± {r[k + '_std']:.{d}f}" if len(r["seeds"]) > 1 else f"{r[k + '_mean']:.{d}f}"
table = ["| recipe | W/A | FAQ epochs | seeds | FP32 top-1 | FAQ top-1 | FAQ − FP32 | integer top-1 | agreement % | cosine |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for r in summary:
    table.append(f"| {r['recipe']} | W{r['wbits']}A{r['abits']} | {r['epochs']} | {','.join(map(str, r['seeds']))} | {pm(r, 'fp32_top1')} | "
                 f"{pm(r, 'top1')} | {pm(r, 'delta_vs_fp32')} | {pm(r, 'top1_integer')} | {pm(r, 'agreement')} | {pm(r, 'weight_cosine', 4)} |")
doc = root / "docs/results.md"
text = doc.read_text()
for tag, body in (("scripts/collect_results.py", lines), ("scripts/collect_results.py summary", table)):
    begin, end = f"<!-- BEGIN GENERATED: {tag} -->", f"<!-- END GENERATED: {tag} -->"
    head, rest = text.split(begin)
    text = head + begin + "\n" + "\n".join(body) + "\n" + end + rest.split(end)[1]
doc.write_text(text)
print(f"{len(rows)} runs, {len(summary)} recipes -> docs/results.json, docs/results.md")
