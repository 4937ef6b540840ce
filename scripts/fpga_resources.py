#!/usr/bin/env python3
"""FPGA resources of the generated datapath (PE array and post-processing lane) for the iCE40, ECP5 and Xilinx 7
families, from Yosys `synth_ice40`, `synth_ecp5` and `synth_xilinx` (cell counts by kind: LUT, FF, carry, DSP,
block RAM). Writes the generated table of docs/fpga.md and docs/fpga.json. The whole accelerator (buffers and
control too) on iCE40: scripts/ice40_accel.sh.
Usage: scripts/fpga_resources.py [PRESET ...] (default: edge tiny)"""
import json, os, pathlib, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import FPGA_FAMILIES, count_cells  # noqa: E402

root = pathlib.Path(__file__).resolve().parent.parent
hwgen = os.environ.get("FAQ_HWGEN", str(root / "build/hw/faq-hwgen"))
presets = sys.argv[1:] or ["edge", "tiny"]
out = root / "out/fpga"
out.mkdir(parents=True, exist_ok=True)
rows = []
for preset in presets:
    rtl = out / preset
    subprocess.run([hwgen, "--config", preset, "-o", str(rtl)], check=True, capture_output=True)
    for top, files in (("faq_array", ["faq_pe.v", "faq_array.v"]), ("faq_post", ["faq_post.v"])):
        for family, (command, kinds) in FPGA_FAMILIES.items():
            stat = out / f"{preset}_{top}_{family}.txt"
            script = f"read_verilog {' '.join(str(rtl / f) for f in files)}; {command} -top {top}; tee -q -o {stat} stat"
            subprocess.run(["yosys", "-q", "-p", script], check=True, capture_output=True)
            text = stat.read_text()
            counts = count_cells(text, kinds)
            rows.append({"preset": preset, "module": top, "family": family, **counts})
            print(preset, top, family, counts, flush=True)
(root / "docs/fpga.json").write_text(json.dumps(rows, indent=2) + "\n")
lines = ["| preset | module | family | LUT | FF | carry | DSP | BRAM |", "|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['preset']} | {r['module']} | {r['family']} | {r['LUT']:,} | {r['FF']:,} | {r['carry']:,} | {r['DSP']} | {r['BRAM']} |")
doc = root / "docs/fpga.md"
begin, end = "<!-- BEGIN GENERATED: scripts/fpga_resources.py -->", "<!-- END GENERATED: scripts/fpga_resources.py -->"
text = doc.read_text()
head, rest = text.split(begin)
doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])
